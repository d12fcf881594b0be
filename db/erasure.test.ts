// An erasure removes exactly one user's events and their part of every aggregate, in one
// transaction, once: a replay changes nothing and keeps its count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf } from '../actors/index.ts';
import { eraseUser, erasureFences, erasureRequestTimes, getErasure, recordErasure } from './erasure.ts';
import { flushBatch } from './flush.ts';
import { ensurePartitions } from './partitions.ts';
import { sampleEvents } from './sample-events.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 3, now: new Date('2026-11-20T00:00:00Z') });
});
after(() => db?.drop());

const cmd = (erasureId: string, userId: string, offset = '10') => ({ erasureId, userId, requestedAt: new Date('2026-11-23T00:00:00Z'), topic: 't', partition: 1, offset });

async function users(): Promise<number> {
  const [r] = await db.sql<[{ n: number }]>`select count(*)::int as n from users`;
  return r.n;
}

test('erasure - erases exactly the user, every rollup level and activity stays equal to a scan of events, and a replay changes nothing', async () => {
  // Two days of events from 500 users, so hour and day rollups hold several users' rows.
  const events = sampleEvents(3000, { seed: 3, spreadMs: 2 * 86_400_000 });
  await flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
  const target = 'u-7';
  const theirs = events.filter((e) => e.userId === target);
  assert.ok(theirs.length > 0);
  const usersBefore = await users();
  const [{ ordinal }] = await db.sql<[{ ordinal: number }]>`select ordinal from users where user_id = ${target}`;

  await recordErasure(db.sql, { erasureId: 'x1', userId: target, requestedAt: new Date('2026-11-23T00:00:00Z') });
  assert.equal((await getErasure(db.sql, 'x1'))?.status, 'pending');
  const first = await eraseUser(db.sql, cmd('x1', target));
  assert.equal(first.ran, true);
  assert.equal(first.eventsErased, theirs.length);
  assert.equal(first.identities.length, theirs.length);

  assert.deepEqual(await aggregateDrift(db.sql), []);
  const [left] = await db.sql<[{ n: number }]>`select count(*)::int as n from events where user_id = ${target}`;
  assert.equal(left.n, 0);
  const [total] = await db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  assert.equal(total.n, events.length - theirs.length);
  assert.equal(await users(), usersBefore - 1);
  const [activity] = await db.sql<[{ n: number }]>`
    select (select count(*) from activity_sets_hour where users @> array[${ordinal}::int4]) + (select count(*) from activity_sets_day where users @> array[${ordinal}::int4]) as n`;
  assert.equal(Number(activity.n), 0);
  const [zero] = await db.sql<[{ n: number }]>`
    select (select count(*) from rollups_minute where events <= 0) + (select count(*) from rollups_hour where events <= 0) + (select count(*) from rollups_day where events <= 0) as n`;
  assert.equal(Number(zero.n), 0, 'rows that reach zero events are deleted');
  const done = await getErasure(db.sql, 'x1');
  assert.equal(done?.status, 'done');
  assert.equal(done?.eventsErased, theirs.length);
  assert.ok(done?.doneAt);

  // Replayed (a crash before the offset commit), even after the user sent new events.
  const later = sampleEvents(5, { seed: 99, fromMs: Date.UTC(2026, 10, 21) }).map((e) => ({ ...e, userId: target }));
  await flushBatch(db.sql, { events: later, partitionKeys: later.map((e) => partitionKeyOf(e)), deadLetters: [] });
  const again = await eraseUser(db.sql, cmd('x1', target));
  assert.deepEqual(again, { ran: false, eventsErased: theirs.length, identities: [] });
  const [kept] = await db.sql<[{ n: number }]>`select count(*)::int as n from events where user_id = ${target}`;
  assert.equal(kept.n, later.length, 'events sent after the erasure are new data');
  assert.deepEqual(await aggregateDrift(db.sql), []);

  // The partition's replay from before the command learns the fence.
  assert.deepEqual(await erasureFences(db.sql, 't', 1, '5'), new Map([[target, 10n]]));
  assert.deepEqual(await erasureFences(db.sql, 't', 1, '11'), new Map());
  // And when the erasure was requested, for the re-produced copies that arrive after it.
  assert.deepEqual(await erasureRequestTimes(db.sql, 't', 1, '5'), new Map([[target, Date.parse('2026-11-23T00:00:00Z')]]));
  assert.deepEqual(await erasureRequestTimes(db.sql, 't', 1, '11'), new Map());
});

test('erasure - an unknown user is done with eventsErased 0, recorded by the worker even when the edge never recorded it', async () => {
  const r = await eraseUser(db.sql, cmd('x2', 'nobody'));
  assert.deepEqual(r, { ran: true, eventsErased: 0, identities: [] });
  const e = await getErasure(db.sql, 'x2');
  assert.equal(e?.status, 'done');
  assert.equal(e?.eventsErased, 0);
  assert.equal(e?.userId, 'nobody');
  await recordErasure(db.sql, { erasureId: 'x2', userId: 'nobody', requestedAt: new Date() }); // the edge, late
  assert.equal((await getErasure(db.sql, 'x2'))?.status, 'done');
  assert.equal(await getErasure(db.sql, 'nope'), undefined);
});

test('erasure - two runs of one erasure at once erase once and agree on the count', async () => {
  const events = sampleEvents(400, { seed: 4 }).map((e, i) => ({ ...e, userId: i % 2 === 0 ? 'u-twice' : e.userId }));
  await flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
  const [a, b] = await Promise.all([eraseUser(db.sql, cmd('x3', 'u-twice')), eraseUser(db.sql, cmd('x3', 'u-twice'))]);
  assert.deepEqual([a.ran, b.ran].sort(), [false, true]);
  assert.equal(a.eventsErased, 200);
  assert.equal(b.eventsErased, 200);
  assert.deepEqual(await aggregateDrift(db.sql), []);
});
