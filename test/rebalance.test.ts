// Rebalance safety and asks across processes. Two keyflow processes share one consumer
// group: the second joins and leaves in the middle of a stream, and the counts stay exact.
// While both run, GET /v1/actors/:key on the first answers for keys the second owns, by
// asking it over its internal HTTP port; and a split deployment (`keyflow edge` +
// `keyflow worker`) answers the same way.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Analytics } from '@segment/analytics-node';
import { makeEvents } from './support/events.ts';
import { eventually, getJson, postJson } from './support/http.ts';
import { produceEvents, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { storedCounts } from './support/store.ts';

// 100,000 in the issue; CI runs a smaller stream unless told otherwise.
const TOTAL = Number(process.env['KEYFLOW_TEST_REBALANCE_EVENTS'] ?? 30_000);
const cleanups: (() => Promise<unknown>)[] = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

type ActorAnswer = { key: string; workerId: number; partition: number; process?: string; counts: { received: number } };

test('rebalance - a second process joining and leaving mid-stream leaves the counts exact, and asks reach the owner', async () => {
  const iso: Isolated = await isolate({ KEYFLOW_WORKERS: '1' });
  cleanups.push(() => iso.cleanup());
  const a: KeyflowProcess = await startKeyflow(iso.env);
  cleanups.push(() => a.stop('SIGTERM'));
  const producer = await testProducer();
  cleanups.push(() => producer.disconnect());

  const events = makeEvents(TOTAL, { prefix: 'rb', seed: 11, users: 500 });
  // Paced to last about 20 s at the default size, so the second process joins and leaves mid-stream.
  const step = 500;
  let sent = 0;
  const stream = (async () => {
    for (; sent < TOTAL; sent += step) {
      await produceEvents(producer, iso.topic, events.slice(sent, sent + step), step);
      await sleep(Math.max(20, Math.round((20_000 * step) / TOTAL) - 50));
    }
  })();

  await eventually(async () => sent, (n) => n >= TOTAL * 0.2, 60_000, 20);
  const b = await startKeyflow(iso.env, 'worker');
  cleanups.push(() => b.stop('SIGTERM'));

  // Both processes own partitions now: keys owned by b are answered through a.
  const answers = await eventually(
    async () => {
      const out: ActorAnswer[] = [];
      for (let u = 0; u < 40; u++) {
        const r = await getJson<ActorAnswer>(`${a.url}/v1/actors/u-${u}`);
        if (r.status === 200) out.push(r.body);
      }
      return out;
    },
    (out) => out.some((x) => x.process === b.url) && out.some((x) => x.process === undefined),
    30_000,
    300,
  );
  assert.ok(answers.some((x) => x.process === b.url), 'some keys are answered by the second process');
  assert.ok(answers.some((x) => x.process === undefined), 'and some by the first');
  assert.ok(answers.every((x) => x.counts.received > 0));

  const stopped = await b.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  assert.ok(sent < TOTAL, 'the second process left while the stream was still running');
  await stream;
  const counts = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= TOTAL, 90_000);
  assert.deepEqual(counts, { rows: TOTAL, rolledUp: TOTAL });
  await sleep(1_000);
  assert.deepEqual(await storedCounts(iso.db.sql), { rows: TOTAL, rolledUp: TOTAL });
});

test('asks - in a split deployment the edge answers GET /v1/actors/:key from the worker process, and 404 for unknown keys', async () => {
  const iso = await isolate({ KEYFLOW_WORKERS: '1' });
  cleanups.push(() => iso.cleanup());
  const worker = await startKeyflow(iso.env, 'worker');
  cleanups.push(() => worker.stop('SIGTERM'));
  const edge = await startKeyflow(iso.env, 'edge');
  cleanups.push(() => edge.stop('SIGTERM'));

  const r = await postJson(`${edge.url}/v1/events`, { id: 'split-1', type: 'ad.view', source: 'facebook', occurredAt: Date.now(), userId: 'split-user' });
  assert.equal(r.status, 202);
  const found = await eventually(() => getJson<ActorAnswer>(`${edge.url}/v1/actors/split-user`), (x) => x.status === 200, 30_000);
  assert.equal(found.status, 200);
  assert.equal(found.body.key, 'split-user');
  assert.equal(found.body.process, worker.url);
  assert.equal(found.body.counts.received, 1);
  const missing = await getJson<{ error: { code: string } }>(`${edge.url}/v1/actors/nobody-here`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
});

test('rebalance - Segment batches and their resends split across a process joining and leaving are counted once', async () => {
  const iso: Isolated = await isolate({ KEYFLOW_WORKERS: '1' });
  cleanups.push(() => iso.cleanup());
  const a: KeyflowProcess = await startKeyflow(iso.env);
  cleanups.push(() => a.stop('SIGTERM'));
  const now = Date.now();
  const sdk = () => new Analytics({ writeKey: 'any-write-key', host: a.url, flushAt: 100, flushInterval: 50, maxRetries: 10 });
  // `first` sends each step once; `again` resends the step sent 5 steps before (same messageIds).
  const first = sdk();
  const again = sdk();
  for (const c of [first, again]) c.on('error', () => assert.fail('the SDK gave up on a batch'));
  const STEP = 100;
  const track = (c: Analytics, step: number) => {
    for (let j = 0; j < STEP; j++) {
      const i = step * STEP + j;
      c.track({ userId: `su-${i % 40}`, messageId: `rb-seg-${i}`, event: 'seg.rebalance', timestamp: new Date(now - 600_000 + i), properties: { i } });
    }
  };
  let steps = 0;
  let bGone = false;
  // Keeps going until 5 steps after the second process left, so batches meet both rebalances.
  const stream = (async () => {
    for (let after = 0; after < 5; steps++) {
      track(first, steps);
      if (steps >= 5) track(again, steps - 5);
      if (bGone) after++;
      await sleep(300);
    }
  })();

  await eventually(async () => steps, (n) => n >= 5, 60_000, 20);
  const b = await startKeyflow(iso.env, 'worker');
  cleanups.push(() => b.stop('SIGTERM'));
  const owned = await eventually(
    async () => {
      for (let u = 0; u < 40; u++) {
        const r = await getJson<ActorAnswer>(`${a.url}/v1/actors/su-${u}`);
        if (r.status === 200 && r.body.process === b.url) return true;
      }
      return false;
    },
    (x) => x,
    60_000,
    300,
  );
  assert.ok(owned, 'the second process took over some users');
  const stopped = await b.stop('SIGTERM');
  assert.equal(stopped.code, 0);
  bGone = true;
  await stream;
  for (let s = Math.max(0, steps - 5); s < steps; s++) track(again, s);
  await Promise.all([first.closeAndFlush({ timeout: 60_000 }), again.closeAndFlush({ timeout: 60_000 })]);

  const total = steps * STEP;
  const counts = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= total, 90_000);
  assert.deepEqual(counts, { rows: total, rolledUp: total });
  await sleep(1_000);
  assert.deepEqual(await storedCounts(iso.db.sql), { rows: total, rolledUp: total });
});
