import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { appWith, eventInput, postJson, recordingIngest } from '../../http/test-helpers.ts';
import { requireServices } from '../../test/support/services.ts';
import { createRateLimiter } from './rate-limiter.ts';

const urls = await requireServices();
const clients: Redis[] = [];
const connect = (): Redis => {
  const r = new Redis(urls.redisUrl, { lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  clients.push(r);
  return r;
};
const prefix = `kft:rl:${randomBytes(4).toString('hex')}:`;

after(async () => {
  const r = clients[0];
  if (r !== undefined) {
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
  }
  for (const c of clients) c.disconnect();
});

test('rate limiter - a bucket gives its burst, then refuses with the wait until the next token', async () => {
  const limiter = createRateLimiter({ redis: connect(), prefix, perSec: 0.5, burst: 3 });
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await limiter.take('burst'));
  assert.deepEqual(got.map((d) => d?.allowed), [true, true, true, false, false]);
  assert.deepEqual(got.map((d) => d?.remaining), [2, 1, 0, 0, 0]);
  const refused = got[4];
  assert.ok(refused !== undefined);
  // At 0.5 tokens/s the next token is at most 2 s away, and the bucket full within 6 s.
  assert.ok(refused.retryAfterSeconds > 0 && refused.retryAfterSeconds <= 2, String(refused.retryAfterSeconds));
  assert.ok(refused.resetSeconds > 4 && refused.resetSeconds <= 6, String(refused.resetSeconds));
  assert.equal(refused.burst, 3);
  assert.equal(refused.perSec, 0.5);
});

test('rate limiter - the bucket refills at the configured rate: a refused key passes again once a token is due', async () => {
  const limiter = createRateLimiter({ redis: connect(), prefix, perSec: 20, burst: 1 });
  assert.equal((await limiter.take('refill'))?.allowed, true);
  const refused = await limiter.take('refill');
  assert.equal(refused?.allowed, false);
  // One token every 50 ms: the wait it names is at most that.
  assert.ok((refused?.retryAfterSeconds ?? 1) <= 0.05, String(refused?.retryAfterSeconds));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await limiter.take('refill'))?.allowed, true, 'after four tokens were due');
  assert.equal((await limiter.take('refill'))?.allowed, false, 'but the bucket holds only its burst of 1');
});

test('rate limiter - two edges (two Redis connections) share one bucket per key, and keys do not share', async () => {
  const a = createRateLimiter({ redis: connect(), prefix, perSec: 0.1, burst: 4 });
  const b = createRateLimiter({ redis: connect(), prefix, perSec: 0.1, burst: 4 });
  const outcomes: boolean[] = [];
  for (let i = 0; i < 3; i++) {
    outcomes.push((await a.take('shared'))?.allowed ?? false);
    outcomes.push((await b.take('shared'))?.allowed ?? false);
  }
  assert.equal(outcomes.filter(Boolean).length, 4, `one bucket of 4 across both edges: ${outcomes.join(',')}`);
  assert.equal((await a.take('other'))?.allowed, true, 'another key has its own bucket');
});

test('rate limiter - with Redis unreachable it fails open and counts each miss', async () => {
  const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  down.on('error', () => undefined);
  clients.push(down);
  let misses = 0;
  const limiter = createRateLimiter({ redis: down, prefix, perSec: 1, burst: 1, onFailOpen: () => misses++ });
  const ingest = recordingIngest();
  const app = appWith({ ingest, rateLimit: limiter, options: { apiKeys: [{ name: 'k', secret: 's', scopes: ['ingest'] }] } });
  for (let i = 0; i < 5; i++) {
    const res = await app.request('/v1/events', postJson(eventInput(i), { Authorization: 'Bearer s' }));
    assert.equal(res.status, 202, 'ingestion never depends on Redis');
  }
  assert.equal(ingest.batches.length, 5);
  assert.equal(misses, 5);
});

test('rate limiter - a key far over its limit gets 429s while another key at its pace gets none', async () => {
  const limiter = createRateLimiter({ redis: connect(), prefix: `${prefix}mixed:`, perSec: 5, burst: 5 });
  const statuses = new Map<string, number[]>([['noisy', []], ['calm', []]]);
  const app = appWith({
    ingest: recordingIngest(),
    rateLimit: limiter,
    options: {
      apiKeys: [
        { name: 'noisy', secret: 'noisy-secret', scopes: ['ingest'] },
        { name: 'calm', secret: 'calm-secret', scopes: ['ingest'] },
      ],
      onRequest: ({ key, status }) => statuses.get(key)?.push(status),
    },
  });
  const send = (key: string, i: number) => app.request('/v1/events', postJson(eventInput(i), { Authorization: `Bearer ${key}-secret` }));
  const started = Date.now();
  // 20 rounds: the noisy key sends 15 requests at once each round, the calm key one (its
  // burst of 5 plus 5 per second covers one per round whatever the rounds' pace).
  for (let round = 0; round < 20; round++) {
    await Promise.all([...Array.from({ length: 15 }, (_, i) => send('noisy', round * 100 + i)), ...(round % 4 === 0 ? [send('calm', round)] : [])]);
  }
  const elapsedS = (Date.now() - started) / 1000;
  const count = (key: string, status: number) => statuses.get(key)?.filter((s) => s === status).length ?? 0;
  assert.equal(count('calm', 429), 0, 'the calm key is never limited by the noisy one');
  assert.equal(count('calm', 202), 5);
  assert.equal(count('noisy', 202) + count('noisy', 429), 300);
  // Exactly what a 5-per-second bucket of 5 allows in the time the load took, no more.
  assert.ok(count('noisy', 202) <= 5 + Math.ceil(elapsedS * 5) + 1, `noisy got ${count('noisy', 202)} in ${elapsedS} s`);
  assert.ok(count('noisy', 429) > 0);
});
