// PostgreSQL stopped in the middle of a stream and started again. While it is gone the
// workers' flushes fail and are retried with growing backoff, consumption pauses instead of
// buffering without bound (pending stays under the configured limit, the process does not
// grow), the edge keeps accepting into Kafka, and /readyz says postgres is down. When it is
// back, every event is stored once and counted once — in the events, the rollups and the
// users dimension — and no worker thread crashed.
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { makeEvents } from './support/events.ts';
import { restoreServices, rssBytes, startService, stopService } from './support/faults.ts';
import { eventually, getJson, postJson } from './support/http.ts';
import { metricValue, produceEvents, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const WORKERS = 2;
const MAX_PENDING = 4_000;
/** Events produced before the outage, and during it (enough to overflow memory if unbounded). */
const BEFORE = 10_000;
const DURING = Number(process.env['FAULTS_PG_EVENTS'] ?? 60_000);
const OUTAGE_MS = 8_000;

let iso: Isolated;
let kf: KeyflowProcess;
let producer: Producer;

before(async () => {
  iso = await isolate({
    KEYFLOW_WORKERS: String(WORKERS),
    KEYFLOW_MAX_PENDING_EVENTS: String(MAX_PENDING),
    KEYFLOW_FLUSH_MAX_EVENTS: '2000',
    KEYFLOW_FLUSH_INTERVAL_MS: '100',
  });
  kf = await startKeyflow(iso.env);
  producer = await testProducer();
});

after(async () => {
  if (process.env['FAULTS_KEYFLOW_LOG'] !== undefined && kf !== undefined) writeFileSync(process.env['FAULTS_KEYFLOW_LOG'], kf.logs());
  await producer?.disconnect();
  await restoreServices();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const metrics = async (): Promise<string> => (await fetch(`${kf.url}/metrics`)).text();
/** A counter's value, 0 before its first increment (a labelled counter has no sample until then). */
const count = (text: string, name: string): number => {
  const v = metricValue(text, name);
  return Number.isNaN(v) ? 0 : v;
};

async function stored(): Promise<{ rows: number; rolledUp: number; users: number }> {
  const [r] = await iso.db.sql<[{ rows: number; rolled: number; users: number }]>`
    select (select count(*)::int from events) as rows,
      (select coalesce(sum(events), 0)::int from rollups_minute) as rolled,
      (select coalesce(sum(events), 0)::int from users) as users`;
  return { rows: r.rows, rolledUp: r.rolled, users: r.users };
}

test('faults - PostgreSQL restarted mid-stream: flushes retry with backoff, consumption pauses with pending and memory bounded, and every event is stored and counted once', async (t) => {
  const started = Date.now();
  const phase = (name: string) => t.diagnostic(`${name} at ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const now = Date.now();
  const events = makeEvents(BEFORE + DURING, { prefix: 'pg', seed: 61, now, users: 2_000 });
  const total = events.length + 1;

  await produceEvents(producer, iso.topic, events.slice(0, BEFORE));
  await eventually(stored, (s) => s.rows >= BEFORE / 2, 60_000, 100);
  const rssBefore = await rssBytes(kf.child.pid!);

  phase('stopping postgres');
  await stopService('postgres');
  const downAt = Date.now();
  const atDown = await metrics();
  const consumedAtDown = metricValue(atDown, 'keyflow_events_consumed_total');
  const storedAtDown = metricValue(atDown, 'keyflow_events_flushed_total');
  // The store is gone; the stream is not.
  const producing = produceEvents(producer, iso.topic, events.slice(BEFORE));
  const accepted = await postJson(`${kf.url}/v1/events`, { id: 'pg-http', type: 'page.view', source: 'web', occurredAt: now, userId: 'u-http' });
  assert.equal(accepted.status, 202, 'the edge accepts into Kafka while PostgreSQL is down');
  const ready = await getJson<{ checks: Record<string, { ok: boolean }> }>(`${kf.url}/readyz`);
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks['postgres']?.ok, false);

  let maxPending = 0;
  let maxUnstored = 0;
  let maxRss = rssBefore;
  let consumedDuringOutage = 0;
  while (Date.now() - downAt < OUTAGE_MS) {
    const m = await metrics();
    maxPending = Math.max(maxPending, metricValue(m, 'keyflow_pending_events'));
    const consumed = metricValue(m, 'keyflow_events_consumed_total');
    consumedDuringOutage = consumed - consumedAtDown;
    // Consumed but not stored (this stream has no duplicates and no dead letters): held in memory.
    maxUnstored = Math.max(maxUnstored, consumed - metricValue(m, 'keyflow_events_flushed_total'));
    maxRss = Math.max(maxRss, await rssBytes(kf.child.pid!));
    await new Promise((r) => setTimeout(r, 200));
  }
  await producing;
  const outage = await metrics();
  phase('starting postgres');
  await startService('postgres');
  phase('postgres is back');

  assert.ok(metricValue(outage, 'keyflow_flush_failures_total') >= 3, 'flushes failed and were retried');
  assert.equal(metricValue(outage, 'keyflow_events_flushed_total'), storedAtDown, 'nothing was reported stored while the store was down');
  assert.ok(consumedDuringOutage < DURING / 2, `consumption paused: ${consumedDuringOutage} of the ${DURING} events produced during the outage were consumed`);
  assert.ok(maxRss - rssBefore < 150 * 2 ** 20, `RSS grew by ${Math.round((maxRss - rssBefore) / 2 ** 20)} MB during the outage`);
  // Each worker's n-th consecutive failure waits 100 ms · 2^n, with jitter (×0.5–1), capped at 5 s.
  const retries = [...kf.logs().matchAll(/"msg":"flush failed; will retry".*?"failures":(\d+),"retryInMs":(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  assert.ok(retries.some(([n]) => n >= 2), `a worker failed again after its first retry: ${JSON.stringify(retries)}`);
  for (const [n, ms] of retries) {
    const cap = Math.min(5_000, 100 * 2 ** Math.min(n, 6));
    assert.ok(ms >= cap / 2 - 1 && ms <= cap + 1, `failure ${n} waited ${ms} ms, not in [${cap / 2}, ${cap}]`);
  }

  const after = await eventually(stored, (s) => s.rows >= total && s.rolledUp >= total && s.users >= total, 120_000, 250);
  phase('all stored');
  // Replays of what was stored add nothing.
  const replays = events.filter((_, i) => i % 20 === 7);
  const dedupedBefore = count(await metrics(), 'keyflow_events_deduplicated_total');
  await produceEvents(producer, iso.topic, replays);
  const deduped = await eventually(async () => count(await metrics(), 'keyflow_events_deduplicated_total') - dedupedBefore, (n) => n >= replays.length, 60_000, 250);
  assert.equal(deduped, replays.length, 'every replay was consumed and dropped as a duplicate');
  assert.deepEqual(await stored(), { rows: total, rolledUp: total, users: total });
  assert.deepEqual(after, { rows: total, rolledUp: total, users: total });

  phase('replays dropped');
  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  assert.equal((await getJson<{ total: number }>(`${kf.url}/v1/reports/events?${window}`)).body.total, total);
  const final = await metrics();
  assert.equal(metricValue(final, 'keyflow_worker_restarts_total'), 0, 'no worker thread crashed');
  assert.equal(kf.child.exitCode, null, 'the process is still running');
  assert.equal((await getJson(`${kf.url}/readyz`)).status, 200);

  // The memory bound, last so that a failure here still shows everything above held. Each
  // worker checks after every message, so what it holds — pending, awaiting a retry, or in the
  // flush in flight — never passes KEYFLOW_MAX_PENDING_EVENTS (no fetch-batch overshoot).
  const bound = WORKERS * MAX_PENDING;
  assert.ok(maxUnstored <= bound, `consumed but not stored peaked at ${maxUnstored}; bound ${bound}`);
  assert.ok(maxPending <= bound, `the pending gauge peaked at ${maxPending}; bound ${bound}`);
});
