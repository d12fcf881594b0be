// The activity sets' fragments (one per flush and key) merge into one row per closed bucket
// and key, and nothing a report answers changes: not the distinct users, not their events,
// not a funnel; an hour still open keeps its fragments.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { compactActivitySets } from './activity-sets.ts';
import { eraseUser } from './erasure.ts';
import { flushBatch } from './flush.ts';
import { funnel } from './funnel.ts';
import { ensurePartitions } from './partitions.ts';
import { reportDemographics } from './report-demographics.ts';
import { sampleEvents } from './sample-events.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from './testing.ts';
import { timeseries } from './timeseries.ts';

const HOUR = 3_600_000;
const D0 = Date.UTC(2026, 10, 20);

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 2, now: new Date(D0) });
});
after(() => db?.drop());

const flush = (events: readonly KeyflowEvent[]) =>
  flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
const rowsPerKey = async (bucket: Date) =>
  (await db.sql<{ n: number }[]>`
    select count(*)::int as n from activity_sets_hour where bucket = ${bucket} group by source, type, funnel_stage`).map((r) => r.n);

test('compactActivitySets - merges the closed hours into one row per key; reports answer the same; an open hour keeps its fragments', async () => {
  // Three hours of events in small flushes (with replays): each hour and key gets many fragments.
  const events = sampleEvents(3000, { seed: 41, fromMs: D0, spreadMs: 3 * HOUR });
  for (let i = 0; i < events.length; i += 250) await flush(events.slice(i, i + 300));
  const window = { from: new Date(D0 - HOUR), to: new Date(D0 + 4 * HOUR) };
  const answers = async () => ({
    series: await timeseries(db.sql, { ...window, interval: '1h', tz: 'UTC' }),
    demographics: await reportDemographics(db.sql, { ...window, by: 'city' }),
    funnel: await funnel(db.sql, { ...window, steps: ['ad.view', 'ad.click', 'checkout.complete'], windowMs: HOUR }),
  });
  const fragmented = await answers();
  assert.ok((await rowsPerKey(new Date(D0))).some((n) => n > 1), 'several fragments per key before');
  assert.deepEqual(await aggregateDrift(db.sql), []);

  // "Now" is inside the third hour: the first two are closed, the third is not.
  const merged = await compactActivitySets(db.sql, { now: new Date(D0 + 2 * HOUR + 60_000) });
  assert.ok(merged > 0);
  assert.deepEqual(await aggregateDrift(db.sql), []);
  for (const h of [0, 1]) assert.ok((await rowsPerKey(new Date(D0 + h * HOUR))).every((n) => n === 1), `hour ${h} merged`);
  assert.ok((await rowsPerKey(new Date(D0 + 2 * HOUR))).some((n) => n > 1), 'the open hour keeps its fragments');
  assert.deepEqual(await answers(), fragmented);
  assert.ok(fragmented.series.some((p) => p.users > 0));
  // Once merged, a second run has nothing to do.
  assert.equal(await compactActivitySets(db.sql, { now: new Date(D0 + 2 * HOUR + 60_000) }), 0);
});

test('flush - ordinals stay dense: a user seen again keeps its number and uses up no new one', async () => {
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, users`;
  const events = sampleEvents(2000, { seed: 43, fromMs: D0, spreadMs: HOUR });
  // The same 500 users again and again, in eight flushes (and a replay).
  for (let i = 0; i < events.length; i += 250) await flush(events.slice(i, i + 250));
  await flush(events.slice(0, 250));
  const [r] = await db.sql<[{ n: number; span: number }]>`select count(*)::int as n, (max(ordinal) - min(ordinal) + 1)::int as span from users`;
  assert.ok(r.n > 100);
  assert.equal(r.span, r.n);
});

test('erasure - removes the user from the sets of events that retention already dropped', async () => {
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, users`;
  const events = sampleEvents(600, { seed: 44, fromMs: D0, spreadMs: 3 * HOUR });
  await flush(events);
  // A user whose every event is in the first hour: once retention drops it, no event is left.
  const late = new Set(events.filter((e) => e.occurredAt >= D0 + HOUR).map((e) => e.userId));
  const user = events.find((e) => e.occurredAt < D0 + HOUR && !late.has(e.userId))?.userId as string;
  assert.ok(user !== undefined);
  const [{ ordinal }] = await db.sql<[{ ordinal: number }]>`select ordinal from users where user_id = ${user}`;
  const inSets = async () => (await db.sql`select 1 from activity_sets_hour where users @> array[${ordinal}::int4]`).length;
  // What the events retention does to the first hour: its events go, its activity stays.
  await db.sql`delete from events where occurred_at < ${new Date(D0 + HOUR)}`;
  assert.ok((await inSets()) > 0);
  await eraseUser(db.sql, { erasureId: 'r1', userId: user, requestedAt: new Date(D0 + 4 * HOUR), topic: 't', partition: 0, offset: '1' });
  assert.equal(await inSets(), 0);
  assert.equal((await db.sql`select 1 from users where user_id = ${user}`).length, 0);
  assert.equal((await db.sql`select 1 from events where user_id = ${user}`).length, 0);
});
