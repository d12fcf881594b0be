import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiKey, QueryPort, RateLimitDecision, RateLimitPort } from '../ports.ts';
import { appWith, eventInput, postJson, queriesMustNotBeCalled, recordingIngest } from '../test-helpers.ts';
import { requiredAccess } from './access.ts';
import { deriveInternalToken, INTERNAL_TOKEN_HEADER } from './keys.ts';

type Json = { error?: { code: string; message: string; details?: unknown } };

const keys: ApiKey[] = [
  { name: 'producer', secret: 'p-secret', scopes: ['ingest'] },
  { name: 'dashboard', secret: 'd-secret', scopes: ['read'] },
  { name: 'ops', secret: 'o-secret', scopes: ['admin'] },
  { name: 'all', secret: 'a-secret', scopes: ['ingest', 'read', 'admin'] },
];

const okQueries: QueryPort = {
  ...queriesMustNotBeCalled,
  listEvents: () => Promise.resolve({ events: [] }),
  getUserProfile: () => Promise.resolve(undefined),
  getEvent: () => Promise.resolve(undefined),
  reportEvents: () => Promise.resolve({ total: 0, groups: [] }),
  listDeadLetters: () => Promise.resolve({ items: [], nextCursor: null }),
};

function app(extra: { rateLimit?: RateLimitPort; seen?: { key: string; status: number }[] } = {}) {
  return appWith({
    ingest: recordingIngest(),
    queries: okQueries,
    actors: { locate: () => Promise.resolve(undefined), locateHere: () => Promise.resolve(undefined) },
    ...(extra.rateLimit ? { rateLimit: extra.rateLimit } : {}),
    options: { apiKeys: keys, onRequest: (i) => extra.seen?.push(i) },
  });
}

const bearer = (secret: string) => ({ Authorization: `Bearer ${secret}` });

test('access - routes get their scope by method and path prefix, whole segments only', () => {
  const cases: [string, string, string][] = [
    ['POST', '/v1/events', 'ingest'],
    ['POST', '/v1/events/stream', 'ingest'],
    ['GET', '/v1/events/e-1', 'read'],
    ['GET', '/v1/events', 'read'],
    ['GET', '/v1/reports/revenue', 'read'],
    ['GET', '/v1/analytics/funnel', 'read'],
    ['GET', '/v1/users/u-1', 'read'],
    ['GET', '/v1/stream', 'read'],
    ['HEAD', '/v1/actors/k', 'read'],
    ['DELETE', '/v1/users/u-1', 'admin'],
    ['GET', '/v1/erasures/x', 'admin'],
    ['GET', '/v1/dead-letters', 'admin'],
    ['GET', '/v1/admin/lag', 'admin'],
    ['POST', '/v1/admin/faults/workers/1/exit', 'admin'],
    ['PUT', '/v1/reports/events', 'admin'],
    ['POST', '/v1/eventsx', 'admin'],
    ['GET', '/v1/erasuresx', 'read'],
  ];
  for (const [m, p, scope] of cases) assert.deepEqual(requiredAccess(m, p), { kind: 'scope', scope }, `${m} ${p}`);
  assert.deepEqual(requiredAccess('GET', '/internal/v1/actors/k'), { kind: 'internal' });
  for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/', '/v2/x']) assert.deepEqual(requiredAccess('GET', p), { kind: 'public' }, p);
});

test('guard - each scope opens exactly its routes: 401 without a valid key, 403 without the scope', async () => {
  const a = app();
  const post = (secret: string) => a.request('/v1/events', postJson(eventInput(1), bearer(secret)));
  const read = (secret: string) => a.request('/v1/reports/events', { headers: bearer(secret) });
  const admin = (secret: string) => a.request('/v1/dead-letters', { headers: bearer(secret) });
  const expect: [string, number, number, number][] = [
    ['p-secret', 202, 403, 403],
    ['d-secret', 403, 200, 403],
    ['o-secret', 403, 403, 200],
    ['a-secret', 202, 200, 200],
  ];
  for (const [secret, p, r, ad] of expect) {
    assert.deepEqual([(await post(secret)).status, (await read(secret)).status, (await admin(secret)).status], [p, r, ad], secret);
  }
  const denied = await read('p-secret');
  const body = (await denied.json()) as Json;
  assert.equal(body.error?.code, 'forbidden');
  assert.match(body.error?.message ?? '', /"producer" lacks the scope "read"/);
  assert.doesNotMatch(JSON.stringify(body), /p-secret/, 'the secret is never echoed');

  for (const headers of [{}, bearer('nope'), { 'X-API-Key': 'p-secre' }, { Authorization: 'Basic p-secret' }]) {
    const res = await a.request('/v1/reports/events', { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(((await res.json()) as Json).error?.code, 'unauthorized');
  }
  assert.equal((await a.request('/v1/reports/events', { headers: { 'X-API-Key': 'd-secret' } })).status, 200, 'X-API-Key works too');
});

test('guard - requests are counted under key names, never secrets', async () => {
  const seen: { key: string; status: number }[] = [];
  const a = appWith({ ingest: recordingIngest(), queries: okQueries, options: { apiKeys: [{ name: 'key-1', secret: 'legacy', scopes: ['ingest', 'read', 'admin'] }], onRequest: (i) => seen.push(i) } });
  assert.equal((await a.request('/v1/events', postJson(eventInput(1), bearer('legacy')))).status, 202);
  assert.equal((await a.request('/v1/dead-letters', { headers: bearer('legacy') })).status, 200);
  assert.equal((await a.request('/v1/dead-letters', { headers: bearer('wrong') })).status, 401);
  assert.equal((await a.request('/healthz')).status, 200);
  assert.deepEqual(seen, [
    { key: 'key-1', status: 202 },
    { key: 'key-1', status: 200 },
    { key: 'none', status: 401 },
  ]);
});

test('guard - /internal/* needs the deployment token when keys are set; API keys do not open it', async () => {
  const a = app();
  const token = deriveInternalToken(keys);
  assert.ok(token !== undefined && token.length === 64);
  assert.ok(!keys.some((k) => token.includes(k.secret)));
  for (const headers of [{}, bearer('a-secret'), { [INTERNAL_TOKEN_HEADER]: 'guess' }]) {
    const res = await a.request('/internal/v1/actors/k', { headers });
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal(((await res.json()) as Json).error?.code, 'unauthorized');
  }
  const ok = await a.request('/internal/v1/actors/k', { headers: { [INTERNAL_TOKEN_HEADER]: token } });
  assert.equal(ok.status, 404, 'past the guard: no live actor');
  // An explicit token wins over the derived one.
  const explicit = appWith({ actors: { locate: () => Promise.resolve(undefined), locateHere: () => Promise.resolve(undefined) }, options: { apiKeys: keys, internalToken: 'x'.repeat(20) } });
  assert.equal((await explicit.request('/internal/v1/actors/k', { headers: { [INTERNAL_TOKEN_HEADER]: token } })).status, 401);
  assert.equal((await explicit.request('/internal/v1/actors/k', { headers: { [INTERNAL_TOKEN_HEADER]: 'x'.repeat(20) } })).status, 404);
});

test('guard - over the limit is a 429 with Retry-After and the RateLimit fields; under it the fields ride along', async () => {
  const decisions: RateLimitDecision[] = [
    { allowed: true, burst: 5, perSec: 2, remaining: 4, resetSeconds: 0.5, retryAfterSeconds: 0 },
    { allowed: false, burst: 5, perSec: 2, remaining: 0, resetSeconds: 2.5, retryAfterSeconds: 0.4 },
  ];
  const asked: string[] = [];
  const seen: { key: string; status: number }[] = [];
  const a = app({ seen, rateLimit: { take: (k) => (asked.push(k), Promise.resolve(decisions.shift())) } });
  const ok = await a.request('/v1/reports/events', { headers: bearer('d-secret') });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('RateLimit-Policy'), '"per-key";q=5;w=3');
  assert.equal(ok.headers.get('RateLimit'), '"per-key";r=4;t=1');
  const limited = await a.request('/v1/reports/events', { headers: bearer('d-secret') });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('Retry-After'), '1');
  assert.equal(limited.headers.get('RateLimit'), '"per-key";r=0;t=3');
  const body = (await limited.json()) as Json;
  assert.equal(body.error?.code, 'rate_limited');
  assert.deepEqual(body.error?.details, { key: 'dashboard', perSec: 2, burst: 5, retryAfterSeconds: 1 });
  // Public routes and refused keys never take a token; a limiter that failed open lets it pass.
  await a.request('/healthz');
  await a.request('/v1/reports/events', { headers: bearer('nope') });
  const open = await a.request('/v1/reports/events', { headers: bearer('d-secret') });
  assert.equal(open.status, 200);
  assert.equal(open.headers.get('RateLimit'), null);
  assert.deepEqual(asked, ['dashboard', 'dashboard', 'dashboard']);
  assert.deepEqual(seen.map((s) => `${s.key}:${s.status}`), ['dashboard:200', 'dashboard:429', 'none:401', 'dashboard:200']);
});

test('guard - without keys, a Host that is not loopback is a 403 on every route (no DNS rebinding)', async () => {
  const a = appWith({ ingest: recordingIngest(), queries: okQueries });
  for (const host of ['localhost', '127.0.0.1', '127.8.9.10', '[::1]', 'app.localhost']) {
    assert.equal((await a.request(`http://${host}:8080/v1/reports/events`)).status, 200, host);
  }
  for (const host of ['evil.example', '10.0.0.5', '0.0.0.0', '127.0.0.1.nip.io', '[::2]', 'localhost.evil.example']) {
    for (const path of ['/v1/reports/events', '/healthz', '/']) {
      const res = await a.request(`http://${host}${path}`);
      assert.equal(res.status, 403, `${host}${path}`);
      const body = (await res.json()) as Json;
      assert.equal(body.error?.code, 'forbidden_host');
      assert.match(body.error?.message ?? '', /loopback/);
    }
  }
  // KEYFLOW_AUTH=none opens it on purpose; with keys the key is the door, not the Host.
  const open = appWith({ ingest: recordingIngest(), queries: okQueries, options: { apiKeys: [], openToNetwork: true } });
  assert.equal((await open.request('http://evil.example/v1/reports/events')).status, 200);
  assert.equal((await app().request('http://evil.example/v1/reports/events', { headers: bearer('d-secret') })).status, 200);
});

test('guard - without keys, POST /v1/events and /v1/events/stream take only JSON or NDJSON (415 otherwise)', async () => {
  const ingest = recordingIngest();
  const a = appWith({ ingest, queries: okQueries });
  const body = JSON.stringify(eventInput(1));
  for (const path of ['/v1/events', '/v1/events/stream']) {
    for (const type of [undefined, 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await a.request(path, { method: 'POST', body, headers: type === undefined ? {} : { 'Content-Type': type } });
      assert.equal(res.status, 415, `${path} ${type}`);
      const err = (await res.json()) as Json;
      assert.equal(err.error?.code, 'unsupported_media_type');
    }
  }
  assert.equal(ingest.batches.length, 0, 'nothing refused was published');
  assert.equal((await a.request('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'application/json; charset=utf-8' } })).status, 202);
  assert.equal((await a.request('/v1/events/stream', { method: 'POST', body, headers: { 'Content-Type': 'application/x-ndjson' } })).status, 202);
  // Even opened with KEYFLOW_AUTH=none, a browser's simple cross-site POST ingests nothing.
  const open = appWith({ ingest, queries: okQueries, options: { apiKeys: [], openToNetwork: true } });
  assert.equal((await open.request('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } })).status, 415);
  // With keys, the key is the door: any type reaches the route (which reads JSON).
  assert.equal((await app().request('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'text/plain', ...bearer('p-secret') } })).status, 202);
});
