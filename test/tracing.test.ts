// Traces inspected in the real Jaeger (built and started by `npm test` through compose/local):
// one ingest request is one trace — HTTP request → Kafka publish → worker `process` → flush
// → INSERT (PostgreSQL) and PIPELINE (Redis) — with the semantic-convention attributes, in
// one process and across `keyflow edge` + `keyflow worker`; a flush of many requests' events
// links to each of them; a report query has its own trace with the SQL's span; and the log
// lines written inside those spans carry their trace and span ids and the request id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventually, postJson } from './support/http.ts';
import { jaegerEndpoints, jaegerSpans, jaegerTrace, requireJaeger, type JaegerSpan } from './support/jaeger.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const tag = randomBytes(3).toString('hex');

function tracingEnv(service: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: jaegerEndpoints().otlp,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: service,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    KEYFLOW_LOG_LEVEL: 'debug',
    KEYFLOW_WORKERS: '1',
    KEYFLOW_FLUSH_INTERVAL_MS: '300',
  };
}

const event = (id: string, userId: string) => ({ id, type: 'ad.click', source: 'tiktok', occurredAt: Date.now(), userId });

type LogLine = Record<string, unknown> & { msg?: string };
const logLines = (kf: KeyflowProcess): LogLine[] =>
  kf.logs().split('\n').flatMap((l) => {
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });

/** The one span named `name` in `spans` (fails naming what is there). */
function one(spans: readonly JaegerSpan[], name: string): JaegerSpan {
  const found = spans.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one span "${name}"; the trace has ${JSON.stringify(spans.map((s) => s.name))}`);
  return found[0]!;
}

/** Wait until the trace of the HTTP span for `requestId` has every span in `names`. */
async function traceOfRequest(service: string, requestId: string, names: readonly string[]): Promise<JaegerSpan[]> {
  const spans = await eventually(
    async () => {
      // A header attribute is a string array; Jaeger shows it as its JSON text.
      const root = (await jaegerSpans(service)).find((s) => [requestId, JSON.stringify([requestId])].includes(String(s.attributes['http.request.header.x-request-id'])));
      return root === undefined ? [] : jaegerTrace(root.traceId);
    },
    (t) => names.every((n) => t.some((s) => s.name === n)),
    30_000,
    300,
  );
  for (const n of names) assert.ok(spans.some((s) => s.name === n), `span "${n}" in the trace of ${requestId}; got ${JSON.stringify(spans.map((s) => s.name))}`);
  return spans;
}

/** The ingest chain and its attributes, in whichever process each span was made. */
function assertIngestChain(spans: readonly JaegerSpan[], topic: string, database: string): { http: JaegerSpan; publish: JaegerSpan; process: JaegerSpan; flush: JaegerSpan; insert: JaegerSpan; live: JaegerSpan } {
  const http = one(spans, 'POST /v1/events');
  const publish = one(spans, `${topic} publish`);
  const process = one(spans, `${topic} process`);
  const flush = one(spans, 'keyflow flush');
  const insert = one(spans, 'INSERT events');
  const live = spans.find((s) => s.name.startsWith('PIPELINE ') && s.parentId === flush.spanId);
  assert.ok(live, `a Redis PIPELINE span under the flush; got ${JSON.stringify(spans.map((s) => s.name))}`);

  assert.equal(http.parentId, undefined, 'the HTTP span is the root');
  assert.equal(publish.parentId, http.spanId, 'publish ← HTTP request');
  assert.equal(process.parentId, publish.spanId, 'process ← publish (through the Kafka headers)');
  assert.equal(flush.parentId, process.spanId, 'flush ← process');
  assert.equal(insert.parentId, flush.spanId, 'INSERT ← flush');

  assert.equal(http.attributes['http.request.method'], 'POST');
  assert.equal(http.attributes['http.route'], '/v1/events');
  assert.equal(Number(http.attributes['http.response.status_code']), 202);
  assert.equal(http.attributes['span.kind'], 'server');

  for (const s of [publish, process]) {
    assert.equal(s.attributes['messaging.system'], 'kafka');
    assert.equal(s.attributes['messaging.destination.name'], topic);
  }
  assert.equal(publish.attributes['span.kind'], 'producer');
  assert.equal(process.attributes['span.kind'], 'consumer');
  assert.equal(publish.attributes['messaging.operation.type'], 'send');
  assert.equal(process.attributes['messaging.operation.type'], 'process');
  assert.match(String(process.attributes['messaging.destination.partition.id']), /^[0-3]$/);
  assert.equal(publish.attributes['messaging.destination.partition.id'], process.attributes['messaging.destination.partition.id'], 'the producer names the partition the consumer read');
  assert.equal(String(publish.attributes['messaging.kafka.offset']), String(process.attributes['messaging.kafka.offset']), 'the producer names the offset the consumer read');

  assert.equal(insert.attributes['db.system.name'], 'postgresql');
  assert.equal(insert.attributes['db.namespace'], database);
  assert.equal(insert.attributes['db.operation.name'], 'INSERT');
  assert.equal(insert.attributes['db.collection.name'], 'events');
  assert.equal(insert.attributes['server.address'], '127.0.0.1');
  assert.equal(insert.attributes['span.kind'], 'client');
  assert.equal(live.attributes['db.system.name'], 'redis');
  assert.equal(Number(flush.attributes['keyflow.flush.inserted']), 1);
  return { http, publish, process, flush, insert, live };
}

const databaseOf = (url: string): string => new URL(url).pathname.slice(1);

describe('tracing in Jaeger - one process (keyflow all)', () => {
  const service = `keyflow-t-${tag}`;
  let iso: Isolated;
  let kf: KeyflowProcess;

  before(async () => {
    await requireJaeger();
    iso = await isolate(tracingEnv(service));
    kf = await startKeyflow(iso.env);
  });
  after(async () => {
    await kf?.stop('SIGTERM');
    await iso?.cleanup();
  });

  test('tracing - one POST /v1/events is one trace: HTTP → publish → process → flush → INSERT and Redis, with semantic-convention attributes', async () => {
    const r = await postJson(`${kf.url}/v1/events`, event(`tr-${tag}-1`, 'u-trace'), { 'x-request-id': `req-${tag}-1` });
    assert.equal(r.status, 202);
    assert.equal(r.headers.get('x-request-id'), `req-${tag}-1`);
    const spans = await traceOfRequest(service, `req-${tag}-1`, ['POST /v1/events', `${iso.topic} publish`, `${iso.topic} process`, 'keyflow flush', 'INSERT events']);
    const chain = assertIngestChain(spans, iso.topic, databaseOf(iso.env['DATABASE_URL']!));
    // The quotable trace, for the issue's closing note.
    console.log(`trace ${chain.http.traceId}:\n${spans.map((s) => `  ${s.name} span=${s.spanId} parent=${s.parentId ?? '-'} ${s.durationUs}µs`).join('\n')}`);

    // Logs that join the trace: the access line carries the request id, trace id and HTTP span id;
    // the worker's flush line (another thread) carries the flush span's ids.
    const lines = await eventually(async () => logLines(kf), (ls) => ls.some((l) => l.msg === 'flushed' && l['trace_id'] === chain.flush.traceId), 10_000);
    const access = lines.find((l) => l.msg === 'request' && l['requestId'] === `req-${tag}-1`);
    assert.ok(access, 'an access log line for the request');
    assert.equal(access['trace_id'], chain.http.traceId);
    assert.equal(access['span_id'], chain.http.spanId);
    const flushed = lines.find((l) => l.msg === 'flushed' && l['trace_id'] === chain.flush.traceId);
    assert.equal(flushed?.['span_id'], chain.flush.spanId, 'the flush log line carries the flush span id');
    for (const l of lines) {
      if (l['component'] === 'http') assert.match(String(l['requestId']), /\S/, `an HTTP log line without a request id: ${JSON.stringify(l)}`);
      if (l['trace_id'] !== undefined) {
        assert.match(String(l['trace_id']), /^[0-9a-f]{32}$/);
        assert.match(String(l['span_id']), /^[0-9a-f]{16}$/, `a log line with a trace id but no span id: ${JSON.stringify(l)}`);
      }
    }
  });

  test('tracing - a flush of events from many requests links to each request’s trace', async () => {
    const n = 12;
    const ids = Array.from({ length: n }, (_, i) => `req-${tag}-b${i}`);
    // Sent together: with one worker and a 300 ms flush interval they share flushes.
    const rs = await Promise.all(ids.map((rid, i) => postJson(`${kf.url}/v1/events`, event(`tr-${tag}-b${i}`, `u-b${i}`), { 'x-request-id': rid })));
    assert.deepEqual(rs.map((r) => r.status), ids.map(() => 202));
    const traces = await Promise.all(ids.map((rid) => traceOfRequest(service, rid, ['POST /v1/events', `${iso.topic} process`])));
    const processes = traces.map((t) => one(t, `${iso.topic} process`));
    const flushes = await eventually(
      async () => (await jaegerSpans(service)).filter((s) => s.name === 'keyflow flush'),
      (fs) => processes.every((p) => fs.some((f) => f.parentId === p.spanId || f.links.some((l) => l.spanId === p.spanId))),
      30_000,
      300,
    );
    for (const p of processes) {
      assert.ok(flushes.some((f) => f.parentId === p.spanId || f.links.some((l) => l.spanId === p.spanId && l.traceId === p.traceId)), `a flush is the child of, or links to, the process span of trace ${p.traceId}`);
    }
    const shared = flushes.find((f) => new Set(f.links.map((l) => l.traceId)).size >= 2);
    assert.ok(shared, `one flush links to the traces of several requests; flush links: ${JSON.stringify(flushes.map((f) => f.links.length))}`);
  });

  test('tracing - a report query has its own trace with the SQL span and its duration', async () => {
    const res = await fetch(`${kf.url}/v1/reports/events?groupBy=type`, { headers: { 'x-request-id': `req-${tag}-report` } });
    assert.equal(res.status, 200);
    const spans = await traceOfRequest(service, `req-${tag}-report`, ['GET /v1/reports/events', 'SELECT reportEvents']);
    const http = one(spans, 'GET /v1/reports/events');
    const sql = one(spans, 'SELECT reportEvents');
    assert.equal(sql.parentId, http.spanId, 'the query is a child of the request');
    assert.equal(sql.attributes['db.system.name'], 'postgresql');
    assert.equal(sql.attributes['db.operation.name'], 'SELECT');
    assert.equal(sql.attributes['span.kind'], 'client');
    assert.ok(sql.durationUs > 0 && sql.durationUs <= http.durationUs, `the SQL span has a duration within the request's (${sql.durationUs} µs of ${http.durationUs} µs)`);
    assert.ok(!spans.some((s) => s.name === 'keyflow flush'), 'a report trace holds no ingest spans');
  });

  test('tracing - an erasure is its own trace: DELETE request → record + publish → worker process → the erase transaction, with its SQL duration', async () => {
    const userId = `u-erase-${tag}`;
    const stored = await postJson(`${kf.url}/v1/events`, event(`tr-${tag}-erase`, userId), { 'x-request-id': `req-${tag}-erase-ingest` });
    assert.equal(stored.status, 202);
    await traceOfRequest(service, `req-${tag}-erase-ingest`, ['INSERT events']);

    const res = await fetch(`${kf.url}/v1/users/${userId}`, { method: 'DELETE', headers: { 'x-request-id': `req-${tag}-erase` } });
    assert.equal(res.status, 202);
    const { erasureId } = (await res.json()) as { erasureId: string };
    const names = ['DELETE /v1/users/:userId', 'INSERT recordErasure', `${iso.topic} publish`, `${iso.topic} process`, 'DELETE eraseUser'];
    const spans = await traceOfRequest(service, `req-${tag}-erase`, names);
    console.log(`erasure trace ${spans[0]!.traceId}:\n${spans.map((s) => `  ${s.name} span=${s.spanId} parent=${s.parentId ?? '-'} ${s.durationUs}µs`).join('\n')}`);
    const http = one(spans, 'DELETE /v1/users/:userId');
    const record = one(spans, 'INSERT recordErasure');
    const publish = one(spans, `${iso.topic} publish`);
    const process = one(spans, `${iso.topic} process`);
    const erase = one(spans, 'DELETE eraseUser');
    assert.equal(http.parentId, undefined, 'the DELETE request is the root');
    assert.equal(Number(http.attributes['http.response.status_code']), 202);
    assert.equal(publish.parentId, http.spanId, 'publish ← DELETE request');
    assert.equal(record.parentId, http.spanId, 'the pending record ← DELETE request');
    assert.equal(process.parentId, publish.spanId, 'the worker continues the trace through the command’s Kafka headers');
    assert.equal(erase.parentId, process.spanId, 'the erase transaction ← the worker’s process span');
    assert.equal(process.attributes['span.kind'], 'consumer');
    assert.equal(process.attributes['keyflow.command'], 'erase-user');
    assert.equal(process.attributes['keyflow.erasure.id'], erasureId);
    assert.equal(String(publish.attributes['messaging.kafka.offset']), String(process.attributes['messaging.kafka.offset']), 'the producer names the offset the worker read');
    for (const s of [record, erase]) {
      assert.equal(s.attributes['db.system.name'], 'postgresql');
      assert.equal(s.attributes['db.namespace'], databaseOf(iso.env['DATABASE_URL']!));
      assert.equal(s.attributes['span.kind'], 'client');
    }
    assert.equal(erase.attributes['db.operation.name'], 'DELETE');
    assert.equal(Number(erase.attributes['keyflow.erasure.events']), 1, 'the erase removed the one stored event');
    assert.ok(erase.durationUs > 0 && erase.durationUs <= process.durationUs, `the SQL span has a duration within the process span's (${erase.durationUs} µs of ${process.durationUs} µs)`);
    assert.ok(!spans.some((s) => s.name === 'keyflow flush'), 'an erasure trace holds no ingest flush');

    // Its status read is a trace of its own too, with the SELECT's span.
    const status = await fetch(`${kf.url}/v1/erasures/${erasureId}`, { headers: { 'x-request-id': `req-${tag}-erasure-status` } });
    assert.equal(status.status, 200);
    const read = await traceOfRequest(service, `req-${tag}-erasure-status`, ['GET /v1/erasures/:id', 'SELECT getErasure']);
    assert.equal(one(read, 'SELECT getErasure').parentId, one(read, 'GET /v1/erasures/:id').spanId);
  });
});

describe('tracing in Jaeger - edge and worker processes', () => {
  const edgeService = `keyflow-t-${tag}-edge`;
  const workerService = `keyflow-t-${tag}-worker`;
  let iso: Isolated;
  let worker: KeyflowProcess;
  let edge: KeyflowProcess;

  before(async () => {
    await requireJaeger();
    iso = await isolate();
    worker = await startKeyflow({ ...iso.env, ...tracingEnv(workerService) }, 'worker');
    edge = await startKeyflow({ ...iso.env, ...tracingEnv(edgeService) }, 'edge');
  });
  after(async () => {
    await edge?.stop('SIGTERM');
    await worker?.stop('SIGTERM');
    await iso?.cleanup();
  });

  test('tracing - the same trace continues from `keyflow edge` into `keyflow worker` across processes', async () => {
    const r = await postJson(`${edge.url}/v1/events`, event(`tr-${tag}-e1`, 'u-edge'), { 'x-request-id': `req-${tag}-e1` });
    assert.equal(r.status, 202);
    const spans = await traceOfRequest(edgeService, `req-${tag}-e1`, ['POST /v1/events', `${iso.topic} publish`, `${iso.topic} process`, 'keyflow flush', 'INSERT events']);
    const chain = assertIngestChain(spans, iso.topic, databaseOf(iso.env['DATABASE_URL']!));
    assert.equal(chain.http.service, edgeService);
    assert.equal(chain.publish.service, edgeService);
    for (const s of [chain.process, chain.flush, chain.insert, chain.live]) assert.equal(s.service, workerService, `${s.name} is the worker process' span`);
  });
});
