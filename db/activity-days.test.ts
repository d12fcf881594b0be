// A day's user activity is built from its hours once the day is over, and nothing a flush
// stores for the day is missed or counted twice: not while the compaction runs, not after
// it (late events), and the reports answer the same before and after.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { compactActivityDays, openDays } from './activity-days.ts';
import { eraseUser } from './erasure.ts';
import { flushBatch } from './flush.ts';
import { funnel } from './funnel.ts';
import { LOCK_ACTIVITY, LOCK_NAMESPACE } from './locks.ts';
import { ensurePartitions } from './partitions.ts';
import { reportDemographics } from './report-demographics.ts';
import { sampleEvents } from './sample-events.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from './testing.ts';
import { timeseries } from './timeseries.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 20);
const AFTER = new Date(D0 + 3 * DAY); // both days below are over, grace and all

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 3, now: new Date(D0) });
});
after(() => db?.drop());
beforeEach(async () => {
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, users`;
});

const flush = (sql: TestDatabase['sql'], events: readonly KeyflowEvent[]) =>
  flushBatch(sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
const dayRows = async (): Promise<number> => (await db.sql<[{ n: number }]>`select coalesce(sum(cardinality(users)), 0)::int as n from activity_sets_day`)[0].n;
const twoDays = (seed: number, n = 2000): KeyflowEvent[] => sampleEvents(n, { seed, fromMs: D0, spreadMs: 2 * DAY - 1 });

test('compactActivityDays - an open day has only hours; compacting builds exactly its day rows, once', async () => {
  await flush(db.sql, twoDays(1));
  assert.equal(await dayRows(), 0);
  assert.deepEqual([...(await openDays(db.sql, new Date(D0), AFTER))].sort(), [D0, D0 + DAY]);
  // The second day ended a minute ago, within the 5-minute grace: only the first is compacted.
  assert.deepEqual((await compactActivityDays(db.sql, { aheadDays: 0, now: new Date(D0 + 2 * DAY + 60_000) })).compacted, ['2026-11-20']);
  const r = await compactActivityDays(db.sql, { aheadDays: 0, now: AFTER });
  assert.deepEqual(r, { compacted: ['2026-11-21'], deferred: [] });
  assert.ok((await dayRows()) > 0);
  assert.deepEqual(await aggregateDrift(db.sql), []);
  assert.deepEqual((await compactActivityDays(db.sql, { aheadDays: 0, now: AFTER })).compacted, []);
  // The days ahead of `now` get their rows, open.
  await compactActivityDays(db.sql, { aheadDays: 2, now: AFTER });
  assert.equal((await openDays(db.sql, AFTER, new Date(AFTER.getTime() + 3 * DAY))).size, 3);
});

test('compactActivityDays - a late event after the compaction is added to the hour and the day', async () => {
  const events = twoDays(2);
  await flush(db.sql, events.slice(0, 1500));
  await compactActivityDays(db.sql, { aheadDays: 0, now: AFTER });
  const before = await dayRows();
  await flush(db.sql, events); // 500 late events, and 1500 replays that must count nothing
  assert.deepEqual(await aggregateDrift(db.sql), []);
  assert.ok((await dayRows()) > before);
});

test('compactActivityDays - waits for a flush holding the day and sees what it stored', async () => {
  // What a flush does for an open day, held open: lock the day's row, store an hour row.
  const flusher = await db.sql.reserve();
  try {
    await flusher`begin`;
    await flusher`insert into activity_days (day) values (${new Date(D0)}) on conflict do nothing`;
    await flusher`commit`;
    await flusher`begin`;
    await flusher`select * from activity_days where day = ${new Date(D0)} for share`;
    await flusher`insert into activity_sets_hour (bucket, source, type, users, events) values (${new Date(D0 + 3_600_000)}, 's', 't', '{7}', '{2}')`;
    let done = false;
    const compaction = compactActivityDays(db.sql, { aheadDays: 0, now: AFTER }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(done, false, 'the compaction must wait for the flush that holds the day');
    await flusher`commit`;
    assert.deepEqual((await compaction).compacted, ['2026-11-20']);
    const rows = await db.sql`select users, events from activity_sets_day where bucket = ${new Date(D0)}`;
    assert.deepEqual(rows.map((r) => [r['users'], r['events']]), [[[7], [2]]]);
  } finally {
    await flusher`rollback`.catch(() => undefined);
    flusher.release();
  }
});

test('compactActivityDays - beside concurrent flushes of the same days (fresh and late), nothing is lost or doubled', async () => {
  const events = twoDays(3, 6000);
  const pool = db.connect({ max: 6 });
  await flush(pool, events.slice(0, 1000));
  const slices = [1, 2, 3, 4, 5].map((k) => events.slice(k * 1000, (k + 1) * 1000));
  const compactions: Promise<unknown>[] = [];
  await Promise.all([
    ...slices.map(async (s, k) => {
      await new Promise((r) => setTimeout(r, k * 15));
      await flush(pool, s);
    }),
    ...[0, 40, 80].map(async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      compactions.push(compactActivityDays(pool, { aheadDays: 0, now: AFTER }));
    }),
  ]);
  const results = (await Promise.all(compactions)) as { compacted: string[] }[];
  // Each day compacted exactly once, whichever run got it.
  assert.deepEqual(results.flatMap((r) => r.compacted).sort(), ['2026-11-20', '2026-11-21']);
  assert.equal((await openDays(db.sql, new Date(D0), AFTER)).size, 0);
  assert.deepEqual(await aggregateDrift(db.sql), []);
});

test('reports - distinct users are the same whether a day is answered by its hours or by its day rows', async () => {
  const events = twoDays(4, 3000);
  await flush(db.sql, events);
  const window = { from: new Date(D0 - DAY), to: new Date(D0 + 3 * DAY) };
  const open = {
    demographics: await reportDemographics(db.sql, { ...window, by: 'country' }),
    series: await timeseries(db.sql, { ...window, interval: '1d', tz: 'UTC' }),
    seriesLocal: await timeseries(db.sql, { ...window, interval: '1d', tz: 'Asia/Kolkata' }),
    funnel: await funnel(db.sql, { ...window, steps: ['ad.view', 'ad.click', 'checkout.complete'], windowMs: DAY }),
  };
  await compactActivityDays(db.sql, { aheadDays: 0, now: AFTER });
  assert.equal((await openDays(db.sql, window.from, window.to)).size, 0);
  const compacted = {
    demographics: await reportDemographics(db.sql, { ...window, by: 'country' }),
    series: await timeseries(db.sql, { ...window, interval: '1d', tz: 'UTC' }),
    seriesLocal: await timeseries(db.sql, { ...window, interval: '1d', tz: 'Asia/Kolkata' }),
    funnel: await funnel(db.sql, { ...window, steps: ['ad.view', 'ad.click', 'checkout.complete'], windowMs: DAY }),
  };
  assert.deepEqual(compacted, open);
  const users = new Set(events.flatMap((e) => (e.userId === undefined ? [] : [e.userId])));
  assert.equal(open.demographics.users, users.size);
  assert.ok(open.series.some((p) => p.users > 0));
  assert.ok((open.funnel[1]?.users ?? 0) > 0, 'the funnel walks some users past step 1');
});

test('eraseUser - waits for a compaction in progress (one advisory lock), then erases what it built', async () => {
  const events = twoDays(5, 500);
  await flush(db.sql, events);
  const user = events.find((e) => e.userId !== undefined)?.userId as string;
  const [{ ordinal }] = await db.sql<[{ ordinal: number }]>`select ordinal from users where user_id = ${user}`;
  const holder = await db.sql.reserve();
  try {
    await holder`begin`;
    await holder`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${LOCK_ACTIVITY}::int)`;
    let done = false;
    const erasure = eraseUser(db.sql, { erasureId: 'e-1', userId: user, requestedAt: new Date(), topic: 't', partition: 0, offset: '1' }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(done, false, 'the erasure must wait for the activity lock');
    await holder`commit`;
    assert.ok((await erasure).eventsErased > 0);
  } finally {
    await holder`rollback`.catch(() => undefined);
    holder.release();
  }
  await compactActivityDays(db.sql, { aheadDays: 0, now: AFTER });
  assert.equal((await db.sql`select 1 from activity_sets_day where users @> array[${ordinal}::int4]`).length, 0);
  assert.deepEqual(await aggregateDrift(db.sql), []);
});
