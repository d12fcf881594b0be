// Limits per client on real sockets (DESIGN.md *Security*): failed authentications are
// rate-limited per client address — the socket's, whatever X-Forwarded-For says, unless the
// peer is a trusted proxy — and GET /v1/stream holds at most KEYFLOW_STREAMS_PER_KEY streams
// per API key (per address without keys). Different client addresses are real: loopback
// sockets bound to 127.0.0.1 and 127.0.0.2.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, test } from 'node:test';
import { addressBucket } from './auth/client-address.ts';
import { AuthFailureLimiter } from './auth/failure-limit.ts';
import type { LivePort, LiveSummary } from './ports.ts';
import { serveApp, type ServedApp } from './serve.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

const served: ServedApp[] = [];
after(() => Promise.all(served.map((s) => s.close())));

const keys = [{ name: 'ci', secret: '0123456789abcdef0123', scopes: ['read', 'ingest', 'admin'] as const }, { name: 'other', secret: 'fedcba9876543210fedc', scopes: ['read'] as const }];

type Answer = { status: number; retryAfter: string | undefined; res: IncomingMessage };

/** One GET from the local address `from`; the response is left open when `keepOpen`. */
function get(port: number, path: string, o: { from?: string; headers?: Record<string, string>; keepOpen?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, localAddress: o.from ?? '127.0.0.1', headers: o.headers ?? {}, agent: false }, (res) => {
      const answer = { status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, res };
      if (o.keepOpen === true) return resolve(answer);
      res.resume();
      res.on('end', () => resolve(answer));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(app: ReturnType<typeof appWith>): Promise<number> {
  const s = await serveApp(app, { port: 0, host: '127.0.0.1' });
  served.push(s);
  return s.port;
}

const queries = { ...queriesMustNotBeCalled, getEvent: async () => undefined };
const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

test('401s - past 5 failures per minute an address gets 429 with Retry-After, even with a good key; another address does not', async () => {
  const port = await serve(appWith({ queries, options: { apiKeys: keys, authFailuresPerMin: 5 } }));
  for (let i = 0; i < 5; i++) {
    // A spoofed X-Forwarded-For does not make each guess a new client.
    const a = await get(port, '/v1/events/x', { headers: { ...bearer(`wrong-${i}`), 'X-Forwarded-For': `198.51.100.${i}` } });
    assert.equal(a.status, 401, `guess ${i}`);
  }
  const limited = await get(port, '/v1/events/x', { headers: { ...bearer('wrong-6'), 'X-Forwarded-For': '198.51.100.99' } });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.retryAfter) >= 1, `Retry-After ${limited.retryAfter}`);
  // The key is not even looked at: a good one gets the same 429 (no oracle for guesses).
  assert.equal((await get(port, '/v1/events/x', { headers: bearer(keys[0]!.secret) })).status, 429);
  // 127.0.0.2 is another client: its own bucket.
  assert.equal((await get(port, '/v1/events/x', { from: '127.0.0.2', headers: bearer(keys[0]!.secret) })).status, 404);
  assert.equal((await get(port, '/v1/events/x', { from: '127.0.0.2', headers: bearer('wrong') })).status, 401);
});

test('401s - behind a trusted proxy the client is the X-Forwarded-For entry the proxy added', async () => {
  const port = await serve(appWith({ queries, options: { apiKeys: keys, authFailuresPerMin: 2, trustedProxies: ['127.0.0.1'] } }));
  const via = (client: string, secret: string) => get(port, '/v1/events/x', { headers: { ...bearer(secret), 'X-Forwarded-For': `203.0.113.250, ${client}` } });
  assert.equal((await via('192.0.2.1', 'bad')).status, 401);
  assert.equal((await via('192.0.2.1', 'bad')).status, 401);
  assert.equal((await via('192.0.2.1', 'bad')).status, 429);
  // Another client behind the same proxy is not blocked; the leftmost entry (client-written) is ignored.
  assert.equal((await via('192.0.2.2', keys[0]!.secret)).status, 404);
});

test('AuthFailureLimiter - remembers at most maxAddresses, refills with time, IPv4 buckets are separate', () => {
  let now = 0;
  const l = new AuthFailureLimiter({ perMinute: 2, maxAddresses: 1_000, now: () => now });
  for (let i = 0; i < 100_000; i++) l.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  assert.equal(l.size, 1_000);
  l.fail('a');
  l.fail('a');
  assert.equal(l.retryAfterSeconds('a'), 30);
  now += 30_000;
  assert.equal(l.retryAfterSeconds('a'), 0);
});

const summary: LiveSummary = { at: '2026-12-02T12:00:00.000Z', eventsLastMinute: 0, eventsPerSecond: 0, activeUsers: { '1m': 0, '5m': 0, '30m': 0 }, topTypes: [] };
const live: LivePort = { summary: async () => summary, subscribe: async () => () => undefined, lag: async () => assert.fail('no lag') };

async function until(what: string, probe: () => Promise<number>, want: number): Promise<void> {
  const end = Date.now() + 10_000;
  let last = -1;
  while (Date.now() < end) {
    if ((last = await probe()) === want) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: wanted ${want}, last saw ${last}`);
}

test('GET /v1/stream - at most 2 streams per API key: the third is a 429, another key is not counted; a closed one frees its slot', async () => {
  const port = await serve(appWith({ live, stream: { maxClients: 100, maxQueuedBytes: 1 << 20, maxPerKey: 2 }, options: { apiKeys: keys } }));
  const a1 = await get(port, '/v1/stream', { headers: bearer(keys[0]!.secret), keepOpen: true });
  const a2 = await get(port, '/v1/stream', { headers: bearer(keys[0]!.secret), keepOpen: true });
  assert.deepEqual([a1.status, a2.status], [200, 200]);
  const a3 = await get(port, '/v1/stream', { headers: bearer(keys[0]!.secret) });
  assert.equal(a3.status, 429);
  assert.equal(a3.retryAfter, '5');
  const b1 = await get(port, '/v1/stream', { from: '127.0.0.2', headers: bearer(keys[1]!.secret), keepOpen: true });
  assert.equal(b1.status, 200);
  a1.res.destroy();
  await until('a stream of key ci after one closed', async () => {
    const again = await get(port, '/v1/stream', { headers: bearer(keys[0]!.secret), keepOpen: true });
    if (again.status === 200) again.res.destroy();
    return again.status;
  }, 200);
  a2.res.destroy();
  b1.res.destroy();
});

test('GET /v1/stream - without keys, at most 2 streams per client address', async () => {
  const port = await serve(appWith({ live, stream: { maxClients: 100, maxQueuedBytes: 1 << 20, maxPerKey: 2 } }));
  const open = [await get(port, '/v1/stream', { keepOpen: true }), await get(port, '/v1/stream', { keepOpen: true })];
  assert.deepEqual(open.map((a) => a.status), [200, 200]);
  assert.equal((await get(port, '/v1/stream', { headers: { 'X-Forwarded-For': '198.51.100.7' } })).status, 429);
  const other = await get(port, '/v1/stream', { from: '127.0.0.2', keepOpen: true });
  assert.equal(other.status, 200);
  for (const a of [...open, other]) a.res.destroy();
});

test('addressBucket - an IPv6 client counts per /64 (one host holds a /64), IPv4 per address', () => {
  assert.equal(addressBucket('2001:db8:0:1::7'), '2001:db8:0:1::/64');
  assert.equal(addressBucket('2001:0db8:0000:0001:ffff:1:2:3'), '2001:db8:0:1::/64');
  assert.equal(addressBucket('::1'), '0:0:0:0::/64');
  assert.equal(addressBucket('203.0.113.9'), '203.0.113.9');
});
