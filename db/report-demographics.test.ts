// Demographics from the users rows alone ("all time" while retention has dropped nothing of
// any stored user) answers exactly what the activity sets answer, and is not taken once the
// rollup retention has dropped the first events of a user still stored, nor for a window that
// cuts a user's life.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf } from '../actors/index.ts';
import { flushBatch } from './flush.ts';
import { runMaintenance } from './maintenance.ts';
import { ensurePartitions } from './partitions.ts';
import { reportDemographics, wholeLifetimes } from './report-demographics.ts';
import { sampleEvents } from './sample-events.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 9, 1);
const ALL = { from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T00:00:00Z') };

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 8, now: new Date(D0) });
  // 4,000 events over 6 days from the sample's users: most users live over several days.
  const events = sampleEvents(4000, { seed: 77, fromMs: D0, spreadMs: 6 * DAY });
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500);
    await flushBatch(db.sql, { events: batch, partitionKeys: batch.map((e) => partitionKeyOf(e)), deadLetters: [] });
  }
});
after(() => db?.drop());

/** The oracle: every stored event in the window, its user grouped by the users row's country. */
async function oracle(from: Date, to: Date) {
  const rows = await db.sql<{ value: string | null; users: number; events: number }[]>`
    select u.country as value, count(distinct e.user_id)::int as users, count(*)::int as events
    from events e join users u on u.user_id = e.user_id
    where e.occurred_at >= ${from} and e.occurred_at < ${to}
    group by 1`;
  const key = (v: string | null) => v ?? '\u0000null';
  return Object.fromEntries(rows.map((r) => [key(r.value), [r.users, r.events]]));
}
const asMap = (r: Awaited<ReturnType<typeof reportDemographics>>) =>
  Object.fromEntries(r.groups.map((g) => [g.value ?? '\u0000null', [g.users, g.events]]));

test('demographics - all time is answered from the users rows while every user has all its events, and equals the oracle', async () => {
  assert.notEqual(await wholeLifetimes(db.sql, { ...ALL, by: 'country' }, 1000), undefined, 'the users rows answer all time');
  const answer = await reportDemographics(db.sql, { ...ALL, by: 'country' });
  assert.deepEqual(asMap(answer), await oracle(ALL.from, ALL.to));
  assert.ok(answer.users > 100 && answer.groups.length > 3, 'a real answer');
  // A filter, or a window cutting some user's life, goes to the sets; same numbers there.
  assert.equal(await wholeLifetimes(db.sql, { ...ALL, by: 'country', funnelStage: 'top' }, 1000), undefined);
  const cut = { from: ALL.from, to: new Date(D0 + 3 * DAY) };
  assert.equal(await wholeLifetimes(db.sql, { ...cut, by: 'country' }, 1000), undefined);
  assert.deepEqual(asMap(await reportDemographics(db.sql, { ...cut, by: 'country' })), await oracle(cut.from, cut.to));
});

test('demographics - once retention drops the first days, all time is read from the sets: the dropped events are not counted', async () => {
  const before = await db.sql<[{ events: string }]>`select sum(events)::text as events from users`;
  // Today is D0 + 7 days; keeping 5 days drops D0 and D0 + 1 (events and sets alike).
  await runMaintenance(db.sql, { aheadDays: 1, retentionDays: 5, rollupRetentionDays: 5, now: new Date(D0 + 7 * DAY) });
  const [left] = await db.sql<[{ oldest: Date }]>`select min(occurred_at) as oldest from events`;
  assert.ok(left.oldest.getTime() >= D0 + 2 * DAY, 'the first two days are gone');
  assert.equal(await wholeLifetimes(db.sql, { ...ALL, by: 'country' }, 1000), undefined, 'users rows still count the dropped events');
  const answer = await reportDemographics(db.sql, { ...ALL, by: 'country' });
  assert.deepEqual(asMap(answer), await oracle(ALL.from, ALL.to));
  assert.ok(answer.events < Number(before[0].events), `dropped events not counted (${answer.events} of ${before[0].events})`);
});
