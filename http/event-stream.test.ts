import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EncodedEvent, IngestPort } from './ports.ts';
import { MAX_LINE_BYTES, MAX_REJECTED_LISTED } from './routes/event-stream.ts';
import { appWith, deferred, eventInput, recordingIngest } from './test-helpers.ts';

type Summary = { accepted: number; rejected: { line: number; errors: { path: string; message: string }[] }[]; rejectedCount: number; lines: number; error?: { code: string } };

const ndjson = (lines: unknown[]): string => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
const post = (body: string) => ({ method: 'POST', body, headers: { 'Content-Type': 'application/x-ndjson' } });

test('POST /v1/events/stream - valid lines are published in order, blank lines skipped, bad lines named by number', async () => {
  const ingest = recordingIngest();
  const { type: _t, ...noType } = eventInput(3);
  const body = ndjson([eventInput(1), '', eventInput(2), noType, 'not json', '[1]', eventInput(4), '   ']);
  const res = await appWith({ ingest }).request('/v1/events/stream', post(body));
  assert.equal(res.status, 202);
  const s = (await res.json()) as Summary;
  assert.equal(s.accepted, 3);
  assert.equal(s.lines, 8);
  assert.deepEqual(s.rejected.map((r) => r.line), [4, 5, 6]);
  assert.equal(s.rejectedCount, 3);
  assert.ok(s.rejected[0]?.errors.some((e) => e.path === 'type'), JSON.stringify(s.rejected[0]));
  assert.deepEqual(ingest.batches.flat().map((e) => e.id), ['e-1', 'e-2', 'e-4']);
});

test('POST /v1/events/stream - a long stream goes out in bounded chunks, each acknowledged before the one after next is read', async () => {
  const sizes: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const ingest: IngestPort = {
    async publish(events: readonly EncodedEvent[]) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      sizes.push(events.length);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
    },
  };
  const n = 5_000;
  const res = await appWith({ ingest }).request('/v1/events/stream', post(ndjson(Array.from({ length: n }, (_, i) => eventInput(i)))));
  assert.equal(res.status, 202);
  assert.equal(((await res.json()) as Summary).accepted, n);
  assert.equal(sizes.reduce((a, b) => a + b, 0), n);
  assert.ok(Math.max(...sizes) <= 500, `chunks of at most 500 events (got ${Math.max(...sizes)})`);
  assert.equal(maxInFlight, 1, 'one publish at a time');
});

test('POST /v1/events/stream - when Kafka stops acknowledging, 503 counts only what was acknowledged and reading stops', async () => {
  let calls = 0;
  const ingest: IngestPort = {
    publish() {
      calls++;
      return calls <= 2 ? Promise.resolve() : Promise.reject(Object.assign(new Error('down'), { code: 'KEYFLOW_KAFKA_UNAVAILABLE' }));
    },
  };
  const res = await appWith({ ingest }).request('/v1/events/stream', post(ndjson(Array.from({ length: 3_000 }, (_, i) => eventInput(i)))));
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  const s = (await res.json()) as Summary;
  assert.equal(s.error?.code, 'kafka_unavailable');
  assert.equal(s.accepted, 1000, 'two chunks of 500 were acknowledged');
  assert.ok(calls <= 4, `reading stopped at the failure (${calls} publishes)`);
  assert.ok(s.lines < 3_000, 'the rest of the stream was not read');
});

test('POST /v1/events/stream - no valid line is a 400 with the same summary; an empty body is a 400 too', async () => {
  const res = await appWith().request('/v1/events/stream', post(ndjson(['{', '{"id":1}'])));
  assert.equal(res.status, 400);
  const s = (await res.json()) as Summary;
  assert.equal(s.error?.code, 'validation_failed');
  assert.deepEqual(s.rejected.map((r) => r.line), [1, 2]);
  const empty = await appWith().request('/v1/events/stream', post('\n\n'));
  assert.equal(empty.status, 400);
  assert.equal(((await empty.json()) as Summary).error?.code, 'invalid_body');
});

test('POST /v1/events/stream - a line longer than the limit is refused without stopping the stream; the listed rejections are capped', async () => {
  const ingest = recordingIngest();
  const huge = JSON.stringify(eventInput(0, { properties: { big: 'x'.repeat(1000) } })).replace('x', 'x'.repeat(MAX_LINE_BYTES));
  const bad = Array.from({ length: MAX_REJECTED_LISTED + 5 }, () => 'nope');
  const res = await appWith({ ingest }).request('/v1/events/stream', post(ndjson([huge, eventInput(1), ...bad])));
  assert.equal(res.status, 202);
  const s = (await res.json()) as Summary;
  assert.equal(s.accepted, 1);
  assert.equal(s.rejected[0]?.line, 1);
  assert.match(s.rejected[0]?.errors[0]?.message ?? '', /longer than/);
  assert.equal(s.rejected.length, MAX_REJECTED_LISTED);
  assert.equal(s.rejectedCount, MAX_REJECTED_LISTED + 6);
});

test('POST /v1/events/stream - the edge reads the body only as fast as Kafka acknowledges', async () => {
  const gate = deferred();
  let published = 0;
  const ingest: IngestPort = {
    async publish(events) {
      await gate.promise;
      published += events.length;
    },
  };
  let pulled = 0;
  const total = 20;
  const line = new TextEncoder().encode(`${Array.from({ length: 500 }, (_, i) => JSON.stringify(eventInput(i))).join('\n')}\n`);
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (pulled >= total) return ctrl.close();
      pulled++;
      ctrl.enqueue(line);
    },
  }, { highWaterMark: 0 });
  const answer = appWith({ ingest }).request('/v1/events/stream', { method: 'POST', body, headers: { 'Content-Type': 'application/x-ndjson' }, duplex: 'half' } as RequestInit);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(pulled <= 4, `with Kafka not acknowledging, only a couple of chunks are read (pulled ${pulled} of ${total})`);
  gate.resolve();
  const res = await answer;
  assert.equal(res.status, 202);
  assert.equal(published, total * 500);
});

/** A body of `chunks` chunks of 500 events, one every `everyMs`, that stalls after `stallAfter` chunks. */
function trickle(chunks: number, everyMs: number, stallAfter = Number.POSITIVE_INFINITY): ReadableStream<Uint8Array> {
  let sent = 0;
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (sent >= chunks) return ctrl.close();
      if (sent >= stallAfter) return new Promise<void>(() => undefined); // never another byte
      await new Promise((r) => setTimeout(r, everyMs));
      const base = sent * 500;
      sent++;
      ctrl.enqueue(enc.encode(`${Array.from({ length: 500 }, (_, i) => JSON.stringify(eventInput(base + i))).join('\n')}\n`));
    },
  }, { highWaterMark: 0 });
}

test('POST /v1/events/stream - the body timeout bounds each wait for bytes, not the stream: a long steady stream is taken whole', async () => {
  const ingest = recordingIngest();
  // 12 chunks 60 ms apart: ~720 ms in all, four times the 180 ms limit.
  const res = await appWith({ ingest, options: { bodyTimeoutMs: 180 } }).request('/v1/events/stream', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body: trickle(12, 60), duplex: 'half' } as RequestInit);
  assert.equal(res.status, 202);
  assert.equal(((await res.json()) as Summary).accepted, 6_000);
  assert.equal(ingest.batches.flat().length, 6_000);
});

test('POST /v1/events/stream - a stream that stalls is a 408 whose summary counts the events read before, all published', async () => {
  const ingest = recordingIngest();
  const res = await appWith({ ingest, options: { bodyTimeoutMs: 150 } }).request('/v1/events/stream', { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson' }, body: trickle(10, 10, 3), duplex: 'half' } as RequestInit);
  assert.equal(res.status, 408);
  const s = (await res.json()) as Summary;
  assert.equal(s.error?.code, 'request_timeout');
  assert.equal(s.accepted, 1_500);
  assert.equal(s.lines, 1_500);
  assert.equal(ingest.batches.flat().length, 1_500);
});
