// Supervision under real load: a worker thread that exits or hangs in the middle of a
// stream is replaced, counts stay exact, the restart metric rises; SIGTERM during a stream
// exits 0 within 10 s and a restart finishes the job exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { makeEvents } from './support/events.ts';
import { eventually, postJson } from './support/http.ts';
import { metricValue, produceEvents, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { storedCounts } from './support/store.ts';

let iso: Isolated;
let kf: KeyflowProcess;
let producer: Producer;

before(async () => {
  iso = await isolate({ KEYFLOW_FAULTS: '1', KEYFLOW_HEARTBEAT_TIMEOUT_MS: '1500', KEYFLOW_FLUSH_MAX_EVENTS: '500' });
  kf = await startKeyflow(iso.env);
  producer = await testProducer();
});

after(async () => {
  await producer?.disconnect();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const metrics = async () => (await fetch(`${kf.url}/metrics`)).text();

async function streamWithFault(prefix: string, kind: 'exit' | 'hang', total: number, seed: number): Promise<void> {
  const before = metricValue(await metrics(), 'keyflow_worker_restarts_total');
  const { rows: start } = await storedCounts(iso.db.sql);
  const events = makeEvents(total, { prefix, seed });
  const half = Math.floor(total / 2);
  await produceEvents(producer, iso.topic, events.slice(0, half));
  const fault = await postJson(`${kf.url}/v1/admin/faults/workers/0/${kind}`, {});
  assert.equal(fault.status, 202, JSON.stringify(fault.body));
  await produceEvents(producer, iso.topic, events.slice(half));

  const restarts = await eventually(async () => metricValue(await metrics(), 'keyflow_worker_restarts_total'), (n) => n > before, 30_000);
  assert.ok(restarts > before, `the ${kind} fault made the supervisor replace the worker`);
  const counts = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= start + total, 60_000);
  assert.deepEqual(counts, { rows: start + total, rolledUp: start + total });
  await eventually(async () => (await fetch(`${kf.url}/readyz`)).status, (s) => s === 200, 30_000);
}

test('supervision - a worker thread that exits mid-stream is replaced and counts stay exact', async () => {
  await streamWithFault('exit', 'exit', 8_000, 1);
});

test('supervision - a worker thread stuck in a busy loop is detected by its missing heartbeats and replaced', async () => {
  await streamWithFault('hang', 'hang', 8_000, 2);
});

test('lifecycle - SIGTERM during a stream exits 0 within 10 s, and after a restart the counts are exact', async () => {
  const { rows: start } = await storedCounts(iso.db.sql);
  const events = makeEvents(20_000, { prefix: 'term', seed: 3 });
  const sending = produceEvents(producer, iso.topic, events, 1_000);
  await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= start + 2_000, 30_000, 20);
  const stopped = await kf.stop('SIGTERM');
  assert.equal(stopped.code, 0, `exit code; log ends:\n${kf.logs().slice(-1500)}`);
  assert.ok(stopped.ms < 10_000, `stopped in ${stopped.ms} ms`);
  await sending;
  kf = await startKeyflow(iso.env);
  const counts = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= start + 20_000, 60_000);
  assert.deepEqual(counts, { rows: start + 20_000, rolledUp: start + 20_000 });
});
