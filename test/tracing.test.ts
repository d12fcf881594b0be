// One ingest request yields one trace across the process and its worker threads: the HTTP
// handler, the Kafka publish, the worker's processing of the event, and the flush that
// stored it. Spans are collected by a local OTLP/HTTP (JSON) receiver started here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, postJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; links?: { traceId: string; spanId: string }[] };
type Export = { resourceSpans?: { scopeSpans?: { spans?: Span[] }[] }[] };

const spans: Span[] = [];
let receiver: Server;
let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      try {
        const data = JSON.parse(body) as Export;
        for (const rs of data.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      } catch {
        // a non-JSON export would fail the assertions below
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const { port } = receiver.address() as AddressInfo;
  iso = await isolate();
  kf = await startKeyflow({
    ...iso.env,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_SERVICE_NAME: 'keyflow-test',
  });
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
  await new Promise((r) => receiver?.close(r));
});

test('tracing - one ingest request yields HTTP, publish, process and flush spans in one trace', async () => {
  const r = await postJson(`${kf.url}/v1/events`, { id: 'traced-1', type: 'ad.click', source: 'tiktok', occurredAt: Date.now(), userId: 'u-t' });
  assert.equal(r.status, 202);
  const server = await eventually(async () => spans.find((s) => s.name === 'POST /v1/events'), (s) => s !== undefined, 20_000);
  assert.ok(server, 'the HTTP handler span arrives');
  const names = (traceId: string) => spans.filter((s) => s.traceId === traceId).map((s) => s.name);
  const wanted = ['POST /v1/events', `${iso.topic} publish`, `${iso.topic} process`, 'keyflow flush'];
  const inTrace = await eventually(async () => names(server.traceId), (n) => wanted.every((w) => n.includes(w)), 20_000);
  for (const w of wanted) assert.ok(inTrace.includes(w), `span "${w}" in trace ${server.traceId}; got ${JSON.stringify(inTrace)}`);

  const byName = (name: string) => spans.find((s) => s.traceId === server.traceId && s.name === name)!;
  assert.equal(byName(`${iso.topic} publish`).parentSpanId, server.spanId, 'the publish is a child of the HTTP span');
  assert.equal(byName(`${iso.topic} process`).parentSpanId, byName(`${iso.topic} publish`).spanId, 'processing continues the producer span across Kafka and the thread');
  const flush = byName('keyflow flush');
  assert.ok(flush.links?.some((l) => l.spanId === byName(`${iso.topic} process`).spanId), 'the flush links to the events it stored');
});
