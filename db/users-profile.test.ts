// getUserProfile against a real store: an unknown user is undefined, and a user whose events
// carry no revenue or demographics has empty parts rather than nulls. The full comparison
// with an oracle over random events is in http/users.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flushBatch } from './flush.ts';
import { getUserProfile } from './users-profile.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
const T = Date.UTC(2026, 10, 20, 12);

before(async () => {
  db = await createTestDatabase();
  await flushBatch(db.sql, { events: [{ id: 'p-1', type: 'page.view', source: 'web', occurredAt: T, userId: 'plain' }], partitionKeys: ['plain'], deadLetters: [] });
});
after(() => db?.drop());

test('getUserProfile - a user with one bare event has an empty profile and revenue, and one recent event', async () => {
  const p = await getUserProfile(db.sql, 'plain');
  assert.ok(p);
  assert.deepEqual({ ...p, recent: p.recent.map((e) => e.id) }, {
    userId: 'plain', firstSeen: new Date(T).toISOString(), lastSeen: new Date(T).toISOString(), events: 1,
    profile: {}, types: [{ type: 'page.view', count: 1 }], revenue: [], recent: ['p-1'],
  });
});

test('getUserProfile - an unknown user is undefined', async () => {
  assert.equal(await getUserProfile(db.sql, 'nobody'), undefined);
});
