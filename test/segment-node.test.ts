// Segment's own Node SDK (@segment/analytics-node, pinned) pointed at a real keyflow with
// `host` and nothing else changed: its track, identify, page and screen calls become stored
// events, report counts and a user profile, exactly; a 503 (a real one: the edge's publish
// fails, KEYFLOW_FAULTS) is retried by the SDK and the batch is stored once; a batch sent
// again (same messageIds) is counted once. API keys are configured, so the write key must
// be an ingest-only key.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Analytics } from '@segment/analytics-node';
import { eventually } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const tag = randomBytes(3).toString('hex');
const WRITE_KEY = `wk-${tag}-node-0123456789`;
const OPS_KEY = `ops-${tag}-node-0123456789`;
const NOW = Date.now();
const at = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000);
const FROM = new Date(NOW - 3_600_000).toISOString();
const TO = new Date(NOW + 3_600_000).toISOString();

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate({ KEYFLOW_API_KEYS: `web:${WRITE_KEY}:ingest,ops:${OPS_KEY}:read+admin`, KEYFLOW_FAULTS: '1' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop();
  await iso?.cleanup();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${kf.url}${path}`, { headers: { Authorization: `Bearer ${OPS_KEY}` } });
  return { status: res.status, body: (await res.json()) as T };
}

type Stored = Record<string, unknown> & { receivedAt?: string };
type Report = { total: number; groups: { type: string; source: string; count: number }[] };
type Profile = { userId: string; events: number; profile: Record<string, unknown>; types: { type: string; count: number }[]; revenue: { currency: string; revenue: string }[] };

/** An SDK client that records the status of every HTTP answer it got. */
function client(flushAt: number): { analytics: Analytics; statuses: number[] } {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host: kf.url, flushAt, flushInterval: 100, maxRetries: 5 });
  const statuses: number[] = [];
  analytics.on('http_response', (r) => statuses.push(r.status));
  return { analytics, statuses };
}

async function stored(id: string): Promise<Stored> {
  const r = await eventually(() => get<Stored>(`/v1/events/${encodeURIComponent(id)}`), (x) => x.status === 200, 30_000);
  assert.equal(r.status, 200, `event ${id} was not stored: ${JSON.stringify(r.body)}`);
  const { receivedAt: _r, ...rest } = r.body;
  return rest;
}

async function report(types: string): Promise<Report> {
  return (await get<Report>(`/v1/reports/events?from=${FROM}&to=${TO}&type=${encodeURIComponent(types)}&groupBy=type,source`)).body;
}

test('analytics-node - track, identify, page and screen sent to keyflow by host become events, report counts and a profile, exactly', async () => {
  const user = `u-${tag}-1`;
  const anon = `anon-${tag}-1`;
  const { analytics, statuses } = client(4);
  analytics.identify({ userId: user, messageId: `id-${tag}`, timestamp: at(40), traits: { age: 34, gender: 'female', address: { country: 'US', city: 'Austin' }, email: 'ana@example.com' } });
  analytics.track({
    userId: user,
    messageId: `tr-${tag}`,
    event: 'Order Completed',
    timestamp: at(30),
    properties: { total: 19.99, currency: 'USD', cart: { items: 2, coupon: null }, skus: ['a', 'b'] },
    context: { ip: '203.0.113.9' },
  });
  analytics.page({ userId: user, messageId: `pg-${tag}`, name: 'Home', timestamp: at(20), properties: { path: '/', title: 'Shop' } });
  analytics.screen({ anonymousId: anon, messageId: `sc-${tag}`, name: 'Settings', timestamp: at(10) });
  await analytics.closeAndFlush();
  assert.deepEqual(statuses, [200]);

  assert.deepEqual(await stored(`id-${tag}`), { id: `id-${tag}`, type: 'identify', source: 'web', occurredAt: at(40).toISOString(), userId: user, user: { age: 34, gender: 'female', country: 'US', city: 'Austin' } });
  assert.deepEqual(await stored(`tr-${tag}`), {
    id: `tr-${tag}`,
    type: 'Order Completed',
    source: 'web',
    occurredAt: at(30).toISOString(),
    userId: user,
    revenue: { amount: 19.99, currency: 'USD' },
    properties: { total: 19.99, currency: 'USD', 'cart.items': 2, 'cart.coupon': null, skus: '["a","b"]' },
  });
  assert.deepEqual(await stored(`pg-${tag}`), { id: `pg-${tag}`, type: 'page', source: 'web', occurredAt: at(20).toISOString(), userId: user, properties: { path: '/', title: 'Shop', name: 'Home' } });
  assert.deepEqual(await stored(`sc-${tag}`), { id: `sc-${tag}`, type: 'screen', source: 'web', occurredAt: at(10).toISOString(), userId: anon, properties: { name: 'Settings', anonymousId: anon } });

  const r = await report('identify,Order Completed,page,screen');
  assert.equal(r.total, 4);
  assert.deepEqual(r.groups, [
    { type: 'Order Completed', source: 'web', count: 1 },
    { type: 'identify', source: 'web', count: 1 },
    { type: 'page', source: 'web', count: 1 },
    { type: 'screen', source: 'web', count: 1 },
  ]);
  const p = (await get<Profile>(`/v1/users/${user}`)).body;
  assert.equal(p.events, 3);
  assert.deepEqual(p.profile, { age: 34, gender: 'female', country: 'US', city: 'Austin' });
  assert.deepEqual([...p.types].sort((a, b) => a.type.localeCompare(b.type)), [{ type: 'identify', count: 1 }, { type: 'Order Completed', count: 1 }, { type: 'page', count: 1 }]);
  assert.deepEqual(p.revenue, [{ currency: 'USD', revenue: '19.99' }]);
});

test('analytics-node - a 503 from keyflow (Kafka did not acknowledge) is retried by the SDK and its batch is stored once', async () => {
  const user = `u-${tag}-retry`;
  const fault = await fetch(`${kf.url}/v1/admin/faults/publish/1`, { method: 'POST', headers: { Authorization: `Bearer ${OPS_KEY}` } });
  assert.equal(fault.status, 202);
  const { analytics, statuses } = client(2);
  analytics.track({ userId: user, messageId: `rt-${tag}-1`, event: 'Retried', timestamp: at(5) });
  analytics.track({ userId: user, messageId: `rt-${tag}-2`, event: 'Retried', timestamp: at(4) });
  await analytics.closeAndFlush();
  assert.deepEqual(statuses, [503, 200]);
  await stored(`rt-${tag}-2`);
  assert.deepEqual((await report('Retried')).groups, [{ type: 'Retried', source: 'web', count: 2 }]);
  assert.equal((await get<Profile>(`/v1/users/${user}`)).body.events, 2);
});

test('analytics-node - a batch sent again with the same messageIds is counted once', async () => {
  const user = `u-${tag}-dup`;
  const send = async (ids: readonly number[]) => {
    const { analytics, statuses } = client(ids.length);
    for (const i of ids) analytics.track({ userId: user, messageId: `dup-${tag}-${i}`, event: 'Resent', timestamp: at(60 - i), properties: { i } });
    await analytics.closeAndFlush();
    assert.deepEqual(statuses, [200]);
  };
  await send([1, 2, 3]);
  await send([1, 2, 3]);
  // The same user's events meet one actor in order: once the marker is stored, the resend was handled.
  await send([4]);
  await stored(`dup-${tag}-4`);
  assert.deepEqual((await report('Resent')).groups, [{ type: 'Resent', source: 'web', count: 4 }]);
  assert.equal((await get<Profile>(`/v1/users/${user}`)).body.events, 4);
});
