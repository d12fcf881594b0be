// Issue 12, items 4 and 5, against the real keyflow in a split deployment (`keyflow worker`
// + `keyflow edge`) with scoped keys and rate limits: the edge's root app answers in the
// error body, scopes and the internal token hold across processes, Redis buckets limit one
// key without touching another, bad input is a 400, gzip bodies round-trip, and an expired
// event straight from Kafka is a dead letter.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { Producer } from 'kafkajs';
import { deriveInternalToken } from '../http/index.ts';
import { eventually } from './support/http.ts';
import { testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const KEYS = 'producer:p-hardening-key-0001:ingest,reader:r-hardening-key-0001:read,ops:o-hardening-key-0001:admin,noisy:n-hardening-key-0001:ingest+read';
const SECRETS = ['p-hardening-key-0001', 'r-hardening-key-0001', 'o-hardening-key-0001', 'n-hardening-key-0001'];
let iso: Isolated;
let worker: KeyflowProcess;
let edge: KeyflowProcess;
let producer: Producer;

before(async () => {
  iso = await isolate({ KEYFLOW_API_KEYS: KEYS, KEYFLOW_RATE_LIMIT_PER_SEC: '10', KEYFLOW_RATE_LIMIT_BURST: '40', KEYFLOW_WORKERS: '1' });
  worker = await startKeyflow(iso.env, 'worker');
  edge = await startKeyflow(iso.env, 'edge');
  producer = await testProducer();
});

after(async () => {
  await producer?.disconnect();
  const stopped = await Promise.all([edge?.stop('SIGTERM'), worker?.stop('SIGTERM')]);
  await iso?.cleanup();
  for (const s of stopped) assert.equal(s?.code, 0);
});

type Answer = { status: number; headers: Headers; body: { error?: { code: string; message: string } } & Record<string, unknown> };
async function call(path: string, secret?: string, init: RequestInit = {}, base = edge.url): Promise<Answer> {
  const headers = new Headers(init.headers);
  if (secret !== undefined) headers.set('Authorization', `Bearer ${secret}`);
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? {} : (JSON.parse(text) as Answer['body']) };
}
const post = (body: unknown, secret: string, headers: Record<string, string> = {}) =>
  call('/v1/events', secret, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

test('edge - unknown routes answer the JSON error body from the real root app', async () => {
  for (const path of ['/nope', '/v2/events', '/%ff%fe']) {
    const r = await call(path);
    assert.equal(r.status, 404, path);
    assert.match(r.headers.get('Content-Type') ?? '', /application\/json/);
    assert.equal(r.body.error?.code, 'not_found');
  }
});

test('edge - scopes: ingest posts, read reads, admin reads dead letters; nothing else', async () => {
  const now = Date.now();
  assert.equal((await post({ id: 'sc-1', type: 't', source: 's', occurredAt: now, userId: 'sc-user' }, 'p-hardening-key-0001')).status, 202);
  assert.equal((await post({ id: 'sc-2', type: 't', source: 's', occurredAt: now }, 'r-hardening-key-0001')).status, 403);
  assert.equal((await post({ id: 'sc-3', type: 't', source: 's', occurredAt: now }, 'o-hardening-key-0001')).status, 403);
  assert.equal((await call('/v1/dead-letters', 'r-hardening-key-0001')).status, 403);
  assert.equal((await call('/v1/dead-letters', 'o-hardening-key-0001')).status, 200);
  assert.equal((await call('/v1/reports/events', 'p-hardening-key-0001')).status, 403);
  assert.equal((await call('/v1/reports/events')).status, 401);
  const found = await eventually(() => call('/v1/events/sc-1', 'r-hardening-key-0001'), (r) => r.status === 200);
  assert.equal(found.body['id'], 'sc-1');
});

test('edge - the edge asks the worker process with the internal token; from outside /internal is refused', async () => {
  const actor = await eventually(() => call('/v1/actors/sc-user', 'r-hardening-key-0001'), (r) => r.status === 200, 30_000);
  assert.equal(actor.body['process'], worker.url);
  for (const headers of [{}, { Authorization: 'Bearer o-hardening-key-0001' }, { 'X-Keyflow-Internal-Token': 'x'.repeat(64) }]) {
    const r = await call('/internal/v1/actors/sc-user', undefined, { headers }, worker.url);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.body.error?.code, 'unauthorized');
  }
  const token = deriveInternalToken(SECRETS.map((secret, i) => ({ name: `k${i}`, secret, scopes: ['read' as const] })));
  const inside = await call('/internal/v1/actors/sc-user', undefined, { headers: { 'X-Keyflow-Internal-Token': token ?? '' } }, worker.url);
  assert.equal(inside.status, 200);
});

test('edge - one key over its limit gets 429s with Retry-After and RateLimit fields; the others are untouched', async () => {
  // 120 requests of one key at once, against a bucket of 40 refilled at 10/s: whatever the
  // machine's pace, most are refused; five requests of another key in the same flood pass.
  const flood = await Promise.all([
    ...Array.from({ length: 120 }, () => call('/v1/reports/events', 'n-hardening-key-0001').then((a) => ({ key: 'noisy', a }))),
    ...Array.from({ length: 5 }, () => call('/v1/reports/events', 'r-hardening-key-0001').then((a) => ({ key: 'reader', a }))),
  ]);
  const statuses = flood.filter((f) => f.key === 'noisy').map((f) => f.a.status);
  const limited = flood.find((f) => f.a.status === 429)?.a;
  assert.deepEqual(flood.filter((f) => f.key === 'reader').map((f) => f.a.status), [200, 200, 200, 200, 200]);
  assert.ok(limited !== undefined, `120 requests against a bucket of 40 at 10/s: ${statuses.join(',')}`);
  assert.equal(limited.body.error?.code, 'rate_limited');
  assert.match(limited.headers.get('Retry-After') ?? '', /^[1-9]\d*$/);
  assert.equal(limited.headers.get('RateLimit-Policy'), '"per-key";q=40;w=4');
  assert.match(limited.headers.get('RateLimit') ?? '', /^"per-key";r=0;t=\d+$/);
  assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);

  const metrics = await (await fetch(`${edge.url}/metrics`)).text();
  assert.match(metrics, /keyflow_api_requests_total\{key="noisy",status="429"\} [1-9]/);
  assert.match(metrics, /keyflow_api_requests_total\{key="reader",status="200"\} [1-9]/);
  assert.doesNotMatch(metrics, /key="reader",status="429"/);
  for (const secret of SECRETS) {
    assert.ok(!metrics.includes(secret), 'no secret in the metrics');
    assert.ok(!edge.logs().includes(secret), 'no secret in the logs');
  }
});

test('edge - bad input is a 400 in the error body, and a gzip body round-trips', async () => {
  for (const path of ['/v1/events/a%00b', '/v1/reports/events?source=a%00b', '/v1/reports/events?from=0000-12-31T00:00:00Z&to=0001-01-02T00:00:00Z']) {
    const r = await call(path, 'r-hardening-key-0001');
    assert.equal(r.status, 400, path);
    assert.match(r.body.error?.code ?? '', /^invalid_/);
  }
  const event = { id: 'gz-1', type: 'page.view', source: 'web', occurredAt: new Date().toISOString(), properties: { 'ключ': '🎉', n: 1.5 } };
  const gz = await call('/v1/events', 'p-hardening-key-0001', { method: 'POST', body: gzipSync(JSON.stringify(event)), headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
  assert.equal(gz.status, 202);
  const br = await post(event, 'p-hardening-key-0001', { 'Content-Encoding': 'br' });
  assert.equal(br.status, 415);
  const stored = await eventually(() => call('/v1/events/gz-1', 'r-hardening-key-0001'), (r) => r.status === 200);
  const { receivedAt, ...rest } = stored.body;
  assert.equal(typeof receivedAt, 'string');
  assert.deepEqual(rest, event);
  const old = await post({ id: 'old-1', type: 't', source: 's', occurredAt: '2000-01-01T00:00:00Z' }, 'p-hardening-key-0001');
  assert.equal(old.status, 400);
  assert.match(old.body.error?.message ?? '', /occurredAt: is older than the retention window/);
});

test('worker - an event older than the retention window straight from Kafka is a dead letter "expired", a fresh one is stored', async () => {
  const now = Date.now();
  await producer.send({
    topic: iso.topic,
    acks: -1,
    messages: [
      { key: 'k-old', value: JSON.stringify({ id: 'kafka-old', type: 't', source: 's', occurredAt: '2001-01-01T00:00:00Z' }) },
      { key: 'k-new', value: JSON.stringify({ id: 'kafka-new', type: 't', source: 's', occurredAt: new Date(now).toISOString() }) },
    ],
  });
  const rows = await eventually(
    () => iso.db.sql<{ reason: string; error: string }[]>`select reason, error from dead_letters where convert_from(raw, 'UTF8') like '%kafka-old%'`,
    (r) => r.length === 1,
  );
  assert.equal(rows[0]?.reason, 'expired');
  assert.match(rows[0]?.error ?? '', /retention window/);
  await eventually(() => call('/v1/events/kafka-new', 'r-hardening-key-0001'), (r) => r.status === 200);
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id = 'kafka-old'`;
  assert.equal(n, 0);
});
