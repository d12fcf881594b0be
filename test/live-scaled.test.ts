// The live routes in a split deployment (`keyflow edge` + `keyflow worker`): the edge's
// stream receives the events the worker process stores, its summary is exact, and its lag
// names the worker process as the owner of every partition.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { chunks, makeEvents } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { comparable, expectedSummary, liveMismatches, readSse, type Sse, type Summary } from './support/live.ts';

let iso: Isolated;
let worker: KeyflowProcess;
let edge: KeyflowProcess;
let redis: Redis;

before(async () => {
  iso = await isolate({ KEYFLOW_WORKERS: '1', KEYFLOW_LIVE_RECONCILE_MS: '1000' });
  redis = new Redis(iso.env['REDIS_URL']!);
  worker = await startKeyflow(iso.env, 'worker');
  edge = await startKeyflow(iso.env, 'edge');
});

after(async () => {
  await edge?.stop('SIGTERM');
  await worker?.stop('SIGTERM');
  redis?.disconnect();
  await iso?.cleanup();
});

test('live scaled - the edge streams what the worker process stores, and its summary and lag are right', async () => {
  const ac = new AbortController();
  const res = await fetch(`${edge.url}/v1/stream?events=true&userId=u-7`, { signal: ac.signal });
  assert.equal(res.status, 200);
  const frames: Sse[] = [];
  void readSse(res, frames);
  try {
    await eventually(async () => frames.length, (n) => n > 0, 10_000, 20);
    const events = makeEvents(800, { prefix: 's', seed: 31, spanMs: 3 * 60_000, users: 20 });
    await sendBatches(() => edge.url, chunks(events, 200), 2);
    const want = events.filter((e) => e.userId === 'u-7').map((e) => e.id).sort();
    assert.ok(want.length > 5);
    const got = () => frames.filter((f) => f.event === 'event').map((f) => (JSON.parse(f.data) as { id: string }).id).sort();
    await eventually(async () => got().length, (n) => n >= want.length, 30_000, 50);
    assert.deepEqual(got(), want);

    await eventually(async () => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`)[0].n, (n) => n === 800, 60_000);
    const prefix = iso.env['KEYFLOW_REDIS_PREFIX']!;
    const exact = await eventually(
      async () => {
        const { body } = await getJson<Summary>(`${edge.url}/v1/analytics/summary`);
        return { mismatches: await liveMismatches(iso.db.sql, redis, prefix), summary: comparable(body), expected: await expectedSummary(iso.db.sql, body.at) };
      },
      (r) => r.mismatches.length === 0 && JSON.stringify(r.summary) === JSON.stringify(r.expected),
      30_000,
    );
    assert.deepEqual(exact.mismatches, []);
    assert.deepEqual(exact.summary, exact.expected);

    type Lag = { totalLag: number; partitions: { owner: { process: string; workerId: number } | null }[] };
    const lag = await eventually(async () => (await getJson<Lag>(`${edge.url}/v1/admin/lag`)).body, (l) => l.totalLag === 0 && l.partitions.every((p) => p.owner !== null), 30_000);
    assert.deepEqual(lag.partitions.map((p) => p.owner), lag.partitions.map(() => ({ process: worker.url, workerId: 0 })));
  } finally {
    ac.abort();
  }
});
