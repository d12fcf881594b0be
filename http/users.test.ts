// GET /v1/users/:userId against a real store filled through flushBatch, compared with the
// profile computed independently over the generated events (user-data.test-support.ts):
// first/last seen, events, current demographics, counts by type, exact revenue, recent 20.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { flushBatch, getUserProfile, listEvents } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import type { UserProfile } from './ports.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';
import { decimalSum, expectedProfile, userEvents } from './user-data.test-support.ts';

const FROM = Date.UTC(2026, 10, 21, 8);
const USERS = 5;
let db: TestDatabase;
let app: ReturnType<typeof appWith>;
let events: KeyflowEvent[];

before(async () => {
  db = await createTestDatabase();
  // Enough events per user that recent (20) is a strict subset; a resent half in a later batch.
  events = userEvents(500, { seed: 23, users: USERS, fromMs: FROM });
  const batches = [events.slice(0, 200), events.slice(200, 350), [...events.slice(350), ...events.slice(100, 300)]];
  for (const batch of batches) await flushBatch(db.sql, { events: batch, partitionKeys: batch.map((e) => partitionKeyOf(e)), deadLetters: [] });
  app = appWith({ queries: { ...queriesMustNotBeCalled, getUserProfile: (id) => getUserProfile(db.sql, id), listEvents: (q) => listEvents(db.sql, q) } });
});
after(() => db?.drop());

async function profile(userId: string): Promise<{ status: number; body: UserProfile & { error?: { code: string } } }> {
  const res = await app.request(`/v1/users/${encodeURIComponent(userId)}`);
  return { status: res.status, body: (await res.json()) as UserProfile & { error?: { code: string } } };
}

test('GET /v1/users/:userId - every number of the profile equals the one computed over the generated events', async () => {
  let withRevenue = 0;
  let withRefund = 0;
  for (let u = 0; u < USERS; u++) {
    const userId = `u-${u}`;
    const expected = expectedProfile(events, userId);
    assert.ok(expected, userId);
    const r = await profile(userId);
    assert.equal(r.status, 200, userId);
    const { recent, ...rest } = r.body;
    const { recentIds, ...expectedRest } = expected;
    assert.deepEqual(rest, expectedRest, userId);
    assert.deepEqual(recent.map((e) => `${e.id}@${e.occurredAt}`), recentIds, `${userId}: the 20 newest by (occurredAt desc, id desc)`);
    assert.equal(recent.length, 20);
    assert.ok(recent.every((e) => e.userId === userId && typeof e.receivedAt === 'string'));
    if (r.body.revenue.length > 0) withRevenue++;
    if (events.some((e) => e.userId === userId && (e.revenue?.amount ?? 0) < 0)) withRefund++;
  }
  assert.ok(withRevenue >= 3 && withRefund >= 3, 'the data exercises revenue and refunds');
});

test('GET /v1/users/:userId - the profile follows the newest demographics, not the latest flushed', async () => {
  const t = FROM + 10 * 86_400_000;
  const newer: KeyflowEvent = { id: 'demo-new', type: 'page.view', source: 'web', userId: 'u-demo', occurredAt: t, user: { city: 'Lisbon', age: 30 } };
  const older: KeyflowEvent = { id: 'demo-old', type: 'page.view', source: 'web', userId: 'u-demo', occurredAt: t - 60_000, user: { city: 'Porto', age: 29, gender: 'female' } };
  const refund: KeyflowEvent = { id: 'demo-refund', type: 'refund', source: 'web', userId: 'u-demo', occurredAt: t - 1, revenue: { amount: -0.1, currency: 'JPY' } };
  const sale: KeyflowEvent = { id: 'demo-sale', type: 'checkout.complete', source: 'web', userId: 'u-demo', occurredAt: t - 2, revenue: { amount: 0.3, currency: 'JPY' } };
  for (const e of [newer, older, refund, sale]) await flushBatch(db.sql, { events: [e], partitionKeys: ['u-demo'], deadLetters: [] });
  const r = await profile('u-demo');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.profile, { age: 30, gender: 'female', city: 'Lisbon' });
  assert.deepEqual(r.body.revenue, [{ currency: 'JPY', revenue: decimalSum(['-0.1', '0.3']) }]);
  assert.equal(r.body.revenue[0]?.revenue, '0.2', 'exact, not 0.19999999999999998');
  assert.deepEqual(r.body.types, [{ type: 'checkout.complete', count: 1 }, { type: 'page.view', count: 2 }, { type: 'refund', count: 1 }].sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)));
  assert.deepEqual([r.body.firstSeen, r.body.lastSeen, r.body.events], [new Date(t - 60_000).toISOString(), new Date(t).toISOString(), 4]);
  assert.deepEqual(r.body.recent.map((e) => e.id), ['demo-new', 'demo-refund', 'demo-sale', 'demo-old']);
});

test('GET /v1/users/:userId - an unknown user, an id no user can have, or only events without that userId is a 404', async () => {
  for (const userId of ['nobody', 'U-1', 'u-1 ', 'x'.repeat(129), 'a\u0000b']) {
    const r = await profile(userId);
    assert.equal(r.status, 404, JSON.stringify(userId));
    assert.equal(r.body.error?.code, 'not_found');
  }
  const anonymous = events.find((e) => e.userId === undefined);
  assert.ok(anonymous, 'the data has events without a userId');
  assert.equal((await profile(anonymous.id)).status, 404, 'an event id is not a user');
});
