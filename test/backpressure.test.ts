// Backpressure under overload: a burst far larger than KEYFLOW_MAX_PENDING_EVENTS makes the
// workers pause their partitions and resume them after flushing; what is pending stays
// bounded, and nothing is lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { makeEvents } from './support/events.ts';
import { eventually } from './support/http.ts';
import { metricValue, produceEvents, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { storedCounts } from './support/store.ts';

const MAX_PENDING = 300;
const WORKERS = 2;
let iso: Isolated;
let kf: KeyflowProcess;
let producer: Producer;

before(async () => {
  // Only the pending bound or a 1 s interval triggers a flush, so the burst must hit the bound.
  iso = await isolate({ KEYFLOW_MAX_PENDING_EVENTS: String(MAX_PENDING), KEYFLOW_FLUSH_MAX_EVENTS: '100000', KEYFLOW_FLUSH_INTERVAL_MS: '1000', KEYFLOW_WORKERS: String(WORKERS) });
  kf = await startKeyflow(iso.env);
  producer = await testProducer();
});

after(async () => {
  await producer?.disconnect();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

test('backpressure - an overload pauses and resumes the partitions, pending stays bounded, nothing is lost', async () => {
  const total = 20_000;
  await produceEvents(producer, iso.topic, makeEvents(total, { prefix: 'bp', seed: 5 }), 5_000);
  let maxPending = 0;
  const counts = await eventually(
    async () => {
      const text = await (await fetch(`${kf.url}/metrics`)).text();
      maxPending = Math.max(maxPending, metricValue(text, 'keyflow_pending_events'));
      return storedCounts(iso.db.sql);
    },
    (c) => c.rows >= total,
    90_000,
    50,
  );
  assert.deepEqual(counts, { rows: total, rolledUp: total });
  const text = await (await fetch(`${kf.url}/metrics`)).text();
  const pauses = metricValue(text, 'keyflow_partition_pauses_total');
  const resumes = metricValue(text, 'keyflow_partition_resumes_total');
  assert.ok(pauses > 0, `partitions were paused (${pauses})`);
  assert.ok(resumes > 0, `and resumed (${resumes})`);
  assert.ok(maxPending <= WORKERS * MAX_PENDING, `pending peaked at ${maxPending}, bound ${WORKERS * MAX_PENDING}`);
});
