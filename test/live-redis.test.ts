// The live view after Redis restarts (empty, as the project's Redis runs without
// persistence) and after Redis was down while events were stored: within a few seconds of
// Redis being back, every closed minute and the summary equal the store. This file runs its
// own redis-server on a free port (never the shared one) and points its keyflow at it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chunks, makeEvents } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { comparable, expectedSummary, liveMismatches, type Summary } from './support/live.ts';

let iso: Isolated;
let kf: KeyflowProcess;
let redis: Redis;
let server: ChildProcess | undefined;
let dir: string;
let port: number;
let prefix: string;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });

/** Start the private redis-server (the flags of compose/local/redis.ts, in the foreground). */
async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  await eventually(async () => {
    await probe.connect().catch(() => undefined);
    return probe.ping();
  }, (r) => r === 'PONG', 15_000, 100);
  probe.disconnect();
}

async function stopRedis(): Promise<void> {
  const s = server;
  server = undefined;
  if (s === undefined || s.exitCode !== null) return;
  const exited = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL');
  await exited;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keyflow-redis-'));
  port = await freePort();
  await startRedis();
  iso = await isolate({ REDIS_URL: `redis://127.0.0.1:${port}`, KEYFLOW_LIVE_RECONCILE_MS: '1000' });
  prefix = iso.env['KEYFLOW_REDIS_PREFIX']!;
  redis = new Redis(port, '127.0.0.1');
  redis.on('error', () => undefined);
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  redis?.disconnect();
  await stopRedis();
  await iso?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const stored = async () => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`)[0].n;

async function untilExact(what: string): Promise<number> {
  const started = Date.now();
  let last: { mismatches: string[]; summary: unknown; expected: unknown } | undefined;
  await eventually(
    async () => {
      const mismatches = await liveMismatches(iso.db.sql, redis, prefix);
      const { status, body } = await getJson<Summary>(`${kf.url}/v1/analytics/summary`);
      if (status !== 200) throw new Error(`summary answered ${status}`);
      return (last = { mismatches, summary: comparable(body), expected: await expectedSummary(iso.db.sql, body.at) });
    },
    (r) => r.mismatches.length === 0 && JSON.stringify(r.summary) === JSON.stringify(r.expected),
    45_000,
    100,
  );
  assert.deepEqual(last?.mismatches, [], `${what}: closed minutes differ from the store`);
  assert.deepEqual(last?.summary, last?.expected, `${what}: the summary differs from the store`);
  return Date.now() - started;
}

test('live - a Redis restart (empty) is exact again within a few seconds', async () => {
  await sendBatches(() => kf.url, chunks(makeEvents(1_500, { prefix: 'r', seed: 21, spanMs: 6 * 60_000 }), 150), 2);
  await eventually(stored, (n) => n === 1_500, 60_000);
  await untilExact('before the restart');
  await stopRedis();
  const down = await fetch(`${kf.url}/v1/analytics/summary`);
  assert.equal(down.status, 503, 'the summary says Redis is down');
  assert.equal((await down.json() as { error: { code: string } }).error.code, 'redis_unavailable');
  assert.ok(down.headers.get('retry-after'));
  await startRedis();
  const backAt = Date.now();
  await untilExact('after the restart');
  console.log(`# live view exact ${Date.now() - backAt} ms after Redis restarted empty`);
});

test('live - events stored while Redis was down are in the live view once it is back', async () => {
  await stopRedis();
  const events = makeEvents(1_500, { prefix: 'd', seed: 22, spanMs: 4 * 60_000 });
  await sendBatches(() => kf.url, chunks(events, 150), 2);
  await eventually(stored, (n) => n === 3_000, 60_000);
  await startRedis();
  const backAt = Date.now();
  await untilExact('after the outage');
  console.log(`# live view exact ${Date.now() - backAt} ms after Redis came back from an outage during which 1500 events were stored`);
});
