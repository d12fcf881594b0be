// Conformance of the real thing: a keyflow process (`keyflow all`, real Kafka, PostgreSQL and
// Redis) is called on every route its /openapi.json publishes, with realistic data, and every
// answer — success and error — is checked against the schema the document gives for that
// method, path, status and content type. A route whose real answer its schema does not allow
// fails here, and so does a published route nobody calls: each RouteDoc needs an entry in
// EXERCISES below that gets a successful (2xx) answer from it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { checkResponse, responseChecker, type ResponseChecker } from '../http/openapi/conformance.ts';
import { eventually } from './support/http.ts';
import { testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

let iso: Isolated;
let kf: KeyflowProcess;
let producer: Producer;
let checker: ResponseChecker;

const NOW = Date.now();
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();
const USER = 'u-conf-1';
const events = [
  { id: 'conf-1', type: 'ad.view', source: 'facebook', occurredAt: at(30), userId: USER, funnelStage: 'top', user: { age: 31, gender: 'female', country: 'US', city: 'Austin' } },
  { id: 'conf-2', type: 'checkout.complete', source: 'facebook', occurredAt: at(20), userId: USER, funnelStage: 'bottom', revenue: { amount: 19.99, currency: 'USD' }, properties: { page: '/checkout', n: 2, ok: true, none: null } },
  { id: 'conf-3', type: 'refund', source: 'email', occurredAt: at(10), userId: USER, revenue: { amount: -5, currency: 'USD' }, sessionId: 's-1' },
  { id: 'conf-4', type: 'page.view', source: 'google', occurredAt: at(5), userId: 'u-conf-2' },
  { id: 'conf-5', type: 'page.view', source: 'google', occurredAt: at(1) },
];

/** `METHOD /openapi/{path}` of every answer checked, with its status. */
const answered: { operation: string; status: number }[] = [];
/** The erasure DELETE /v1/users/{userId} asked for, which GET /v1/erasures/{id} reads. */
let erasureId = '';

/** Call keyflow and check the answer against the served document; returns the response. */
async function call(method: string, path: string, init: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const res = await fetch(`${kf.url}${path}`, {
    method,
    ...(init.raw !== undefined ? { body: init.raw } : init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
  });
  const checked = await checkResponse(checker, method, path, res);
  assert.deepEqual(checked.errors, [], `${method} ${path} → ${res.status} does not match /openapi.json`);
  if (checked.operation !== null) answered.push({ operation: checked.operation, status: res.status });
  // An event stream never ends: its headers are what can be checked, then it is closed.
  if ((res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) await res.body?.cancel();
  return res;
}

async function json<T>(method: string, path: string, init: { body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await call(method, path, init);
  return { status: res.status, body: (await res.json()) as T };
}

/**
 * How each published route is called. A route added to allRouteDocs needs an entry here that
 * reaches a 2xx with realistic data (add error cases too where they are cheap).
 */
const EXERCISES: Record<string, () => Promise<void>> = {
  'POST /v1/events': async () => {
    assert.equal((await call('POST', '/v1/events', { body: [{ ...events[0], id: 'conf-1' }, { id: 'bad' }] })).status, 202, 'a mixed batch');
    assert.equal((await call('POST', '/v1/events', { body: { id: 'bad' } })).status, 400);
  },
  'POST /v1/events/stream': async () => {
    const ndjson = `${JSON.stringify(events[3])}\n\n{"id":"bad"}\n${JSON.stringify(events[4])}\n`;
    assert.equal((await call('POST', '/v1/events/stream', { raw: ndjson, headers: { 'content-type': 'application/x-ndjson' } })).status, 202);
    assert.equal((await call('POST', '/v1/events/stream', { raw: '{"id":"bad"}\n', headers: { 'content-type': 'application/x-ndjson' } })).status, 400);
  },
  'GET /v1/events/{id}': async () => {
    assert.equal((await call('GET', '/v1/events/conf-2')).status, 200);
    assert.equal((await call('GET', '/v1/events/none')).status, 404);
  },
  'GET /v1/events': async () => {
    const first = await json<{ events: unknown[]; nextCursor?: string }>('GET', `/v1/events?userId=${USER}&limit=2`);
    assert.equal(first.status, 200);
    assert.equal(first.body.events.length, 2);
    assert.ok(first.body.nextCursor);
    const second = await json<{ events: unknown[]; nextCursor?: string }>('GET', `/v1/events?userId=${USER}&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    assert.deepEqual([second.status, second.body.events.length, second.body.nextCursor], [200, 1, undefined]);
    assert.equal((await call('GET', `/v1/events?type=page.view,ad.view&source=google&from=${encodeURIComponent(at(60))}&to=${NOW + 60_000}`)).status, 200);
    assert.equal((await call('GET', `/v1/events?userId=${USER}&cursor=tampered`)).status, 400);
    assert.equal((await call('GET', '/v1/events?page=2')).status, 400);
  },
  'GET /v1/users/{userId}': async () => {
    const r = await json<{ events: number; revenue: { currency: string; revenue: string }[] }>('GET', `/v1/users/${USER}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.events, 3);
    assert.deepEqual(r.body.revenue, [{ currency: 'USD', revenue: '14.99' }]);
    assert.equal((await call('GET', '/v1/users/nobody')).status, 404);
  },
  'GET /v1/reports/events': async () => {
    assert.equal((await call('GET', '/v1/reports/events?groupBy=type,source,funnelStage')).status, 200);
    assert.equal((await call('GET', '/v1/reports/events?groupBy=colour')).status, 400);
    assert.equal((await call('GET', '/v1/reports/events?groupBy=source&format=csv')).status, 200);
  },
  'GET /v1/reports/revenue': async () => {
    const r = await json<{ currencies: { currency: string; revenue: string }[] }>('GET', '/v1/reports/revenue?groupBy=source,type');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.currencies.map((c) => [c.currency, c.revenue]), [['USD', '14.99']]);
    assert.equal((await call('GET', '/v1/reports/revenue?groupBy=funnelStage')).status, 400);
    assert.equal((await call('GET', '/v1/reports/revenue', { headers: { accept: 'text/csv' } })).status, 200);
  },
  'GET /v1/reports/demographics': async () => {
    const r = await json<{ users: number; events: number }>('GET', '/v1/reports/demographics?by=age');
    assert.equal(r.status, 200);
    assert.deepEqual([r.body.users, r.body.events], [2, 4]);
    assert.equal((await call('GET', '/v1/reports/demographics?by=colour')).status, 400);
    assert.equal((await call('GET', '/v1/reports/demographics?by=city&format=csv')).status, 200);
  },
  'GET /v1/analytics/timeseries': async () => {
    const r = await json<{ points: { events: number }[] }>('GET', '/v1/analytics/timeseries?interval=1h&tz=Asia/Kolkata');
    assert.equal(r.status, 200);
    assert.equal(r.body.points.reduce((n, p) => n + p.events, 0), events.length);
    assert.equal((await call('GET', '/v1/analytics/timeseries?interval=1h', { headers: { accept: 'text/csv' } })).status, 200);
    assert.equal((await call('GET', '/v1/analytics/timeseries?tz=Mars/Olympus')).status, 400);
  },
  'GET /v1/analytics/funnel': async () => {
    const r = await json<{ steps: { users: number }[] }>('GET', '/v1/analytics/funnel?steps=ad.view,checkout.complete,refund&window=1h');
    assert.deepEqual([r.status, r.body.steps.map((s) => s.users)], [200, [1, 1, 1]]);
    assert.equal((await call('GET', '/v1/analytics/funnel?steps=ad.view')).status, 400);
  },
  'GET /v1/dead-letters': async () => {
    const r = await json<{ items: unknown[] }>('GET', '/v1/dead-letters?limit=10');
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length >= 2, 'the poison messages are there');
    assert.equal((await call('GET', '/v1/dead-letters?limit=0')).status, 400);
  },
  'GET /v1/actors/{key}': async () => {
    assert.equal((await call('GET', `/v1/actors/${USER}`)).status, 200);
  },
  'GET /internal/v1/actors/{key}': async () => {
    assert.equal((await call('GET', `/internal/v1/actors/${USER}`)).status, 200);
    assert.equal((await call('GET', '/internal/v1/actors/never-seen-key')).status, 404);
  },
  'DELETE /v1/users/{userId}': async () => {
    const r = await json<{ erasureId: string }>('DELETE', '/v1/users/u-conf-erased');
    assert.equal(r.status, 202);
    erasureId = r.body.erasureId;
    assert.equal((await call('DELETE', `/v1/users/${'x'.repeat(129)}`)).status, 400);
  },
  'GET /v1/erasures/{id}': async () => {
    assert.equal((await call('GET', `/v1/erasures/${erasureId}`)).status, 200);
    await eventually(async () => (await json<{ status: string }>('GET', `/v1/erasures/${erasureId}`)).body.status, (s) => s === 'done');
    assert.equal((await call('GET', `/v1/erasures/${erasureId}`)).status, 200, 'done');
    assert.equal((await call('GET', '/v1/erasures/none')).status, 404);
  },
  'GET /healthz': async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
  },
  'GET /readyz': async () => {
    assert.equal((await call('GET', '/readyz')).status, 200);
  },
  'GET /metrics': async () => {
    assert.equal((await call('GET', '/metrics')).status, 200);
  },
  'GET /v1/analytics/summary': async () => {
    assert.equal((await call('GET', '/v1/analytics/summary')).status, 200);
    assert.equal((await call('GET', '/v1/analytics/summary?window=5m')).status, 400);
  },
  'GET /v1/stream': async () => {
    assert.equal((await call('GET', '/v1/stream?events=true&type=page.view')).status, 200);
    assert.equal((await call('GET', '/v1/stream?type=page.view')).status, 400);
  },
  'GET /v1/admin/lag': async () => {
    assert.equal((await call('GET', '/v1/admin/lag')).status, 200);
  },
  'GET /openapi.json': async () => {
    assert.equal((await call('GET', '/openapi.json')).status, 200);
  },
  'GET /': async () => {
    const page = await call('GET', '/');
    assert.equal(page.status, 200);
    assert.equal((await call('GET', '/', { headers: { 'If-None-Match': page.headers.get('ETag') ?? '' } })).status, 304);
  },
  'GET /console/{file}': async () => {
    assert.equal((await call('GET', '/console/console.js')).status, 200);
    assert.equal((await call('GET', '/console/console.css')).status, 200);
    assert.equal((await call('GET', '/console/nope.js')).status, 404);
  },
};

// The Segment-compatible routes: a message taken and one rejected by its index (200), and a
// body that is not a batch or message at all (400).
const segmentMessage = (id: string) => ({ type: 'track', event: 'conf.segment', messageId: id, timestamp: at(2), userId: 'u-conf-seg', properties: { n: 1 } });
for (const path of ['/v1/batch', '/v1/b']) {
  EXERCISES[`POST ${path}`] = async () => {
    assert.equal((await call('POST', path, { body: { batch: [segmentMessage(`seg${path}`), { type: 'track' }] } })).status, 200);
    assert.equal((await call('POST', path, { raw: '{"batch": 1}', headers: { 'content-type': 'text/plain' } })).status, 400);
  };
}
for (const call_ of ['track', 'identify', 'page', 'screen', 'group', 'alias', 't', 'i', 'p', 's', 'g', 'a']) {
  EXERCISES[`POST /v1/${call_}`] = async () => {
    assert.equal((await call('POST', `/v1/${call_}`, { body: segmentMessage(`seg-${call_}`) })).status, 200);
    assert.equal((await call('POST', `/v1/${call_}`, { body: { type: 'track' } })).status, 200, 'a message rejected by its index');
    assert.equal((await call('POST', `/v1/${call_}`, { raw: '[1]', headers: { 'content-type': 'application/json' } })).status, 400);
  };
}

before(async () => {
  // Actors stay live for the whole file, so /v1/actors answers 200 however slow the machine is.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '20', KEYFLOW_ACTOR_IDLE_MS: '600000' });
  kf = await startKeyflow(iso.env);
  checker = responseChecker(await (await fetch(`${kf.url}/openapi.json`)).json(), { eager: true });
  producer = await testProducer();
  const res = await fetch(`${kf.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
  assert.equal(res.status, 202);
  // Two messages that cannot become events: they become dead letters with their bytes.
  await producer.send({ topic: iso.topic, acks: -1, messages: [{ key: 'poison', value: '{"id": ' }, { key: null, value: Buffer.from([0xff, 0x00, 0x7b]) }] });
  const stored = await eventually(
    async () => Promise.all(events.map(async (e) => (await fetch(`${kf.url}/v1/events/${e.id}`)).status)),
    (statuses) => statuses.every((s) => s === 200),
  );
  assert.ok(stored.every((s) => s === 200), 'every event is stored');
  await eventually(
    async () => ((await (await fetch(`${kf.url}/v1/dead-letters`)).json()) as { items: unknown[] }).items.length,
    (n) => n >= 2,
  );
});

after(async () => {
  await producer?.disconnect();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

test('conformance - every answer of every published route of a real keyflow matches the schema it publishes', async () => {
  for (const operation of checker.operations) {
    const exercise = EXERCISES[operation];
    if (exercise !== undefined) await exercise();
  }
  assert.ok(answered.length >= checker.operations.length);
});

test('conformance - every route /openapi.json publishes was exercised with a successful answer', () => {
  const succeeded = new Set(answered.filter((a) => a.status >= 200 && a.status < 300).map((a) => a.operation));
  const missing = checker.operations.filter((o) => !succeeded.has(o));
  assert.deepEqual(missing, [], `add an entry to EXERCISES in test/openapi-conformance.test.ts for: ${missing.join(', ')}`);
  const unknown = Object.keys(EXERCISES).filter((o) => !checker.operations.includes(o));
  assert.deepEqual(unknown, [], 'EXERCISES names only published routes');
});

test('conformance - an undocumented path answers the error body, and a wrong answer would fail the check', async () => {
  const res = await call('GET', '/v1/no-such-route');
  assert.equal(res.status, 404);
  const wrong = checker.check({ method: 'GET', path: `/v1/users/${USER}`, status: 200, contentType: 'application/json', body: { userId: USER, events: '3' } });
  assert.ok(wrong.errors.length > 0);
});
