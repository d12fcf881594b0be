// Maintenance keeps partitions ahead, adopts late events into their day, leaves far-future
// ones in the default partition (counted), drops whole expired days, keeps rollups longer,
// and never changes a count by moving rows.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import type { KeyflowEvent } from '../actors/index.ts';
import { flushBatch } from './flush.ts';
import { runMaintenance, type MaintenanceOptions } from './maintenance.ts';
import { reportEvents } from './report-events.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from './testing.ts';

const DAY = 86_400_000;
const NOW = new Date('2026-11-20T10:00:00Z');
const TODAY = Date.UTC(2026, 10, 20);
const opts: MaintenanceOptions = { aheadDays: 2, retentionDays: 10, rollupRetentionDays: 40, now: NOW };

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());
beforeEach(async () => {
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, users`;
  // Each test starts from the partitions around NOW only.
  for (const { name } of await db.sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'events'::regclass and c.relname <> 'events_default'`) {
    await db.sql.unsafe(`drop table ${name}`);
  }
});

const ev = (id: string, at: number): KeyflowEvent => ({ id, type: 'view', source: 'web', occurredAt: at });
const flush = (events: KeyflowEvent[]) => flushBatch(db.sql, { events, partitionKeys: events.map((e) => e.id), deadLetters: [] });

async function where(): Promise<Record<string, number>> {
  const rows = await db.sql<{ name: string; n: number }[]>`select tableoid::regclass::text as name, count(*)::int as n from events group by 1 order by 1`;
  return Object.fromEntries(rows.map((r) => [r.name, r.n]));
}

async function partitions(): Promise<string[]> {
  const rows = await db.sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'events'::regclass and c.relname <> 'events_default' order by 1`;
  return rows.map((r) => r.name);
}

async function total(fromMs: number, toMs: number): Promise<number> {
  return (await reportEvents(db.sql, { from: new Date(fromMs), to: new Date(toMs), groupBy: [] })).total;
}

test('maintenance - partitions exist from yesterday to aheadDays ahead, and a second run changes nothing', async () => {
  const r = await runMaintenance(db.sql, opts);
  assert.deepEqual(r.created, ['events_p20261119', 'events_p20261120', 'events_p20261121', 'events_p20261122']);
  assert.deepEqual(await partitions(), r.created);
  const again = await runMaintenance(db.sql, opts);
  assert.deepEqual({ ...again, deferred: again.deferred }, { ran: true, created: [], movedRows: 0, dropped: [], expiredDefaultRows: 0, expiredRollupRows: 0, compactedDays: [], defaultRows: 0, deferred: [] });
});

test('maintenance - compacts the user activity of the days that are over, once', async () => {
  await runMaintenance(db.sql, opts);
  await flush([ev('y-1', TODAY - DAY + 1_000), ev('y-2', TODAY - 2 * DAY + 5_000), ev('t-1', TODAY + 1_000)].map((e) => ({ ...e, userId: 'u-1' })));
  const r = await runMaintenance(db.sql, opts);
  assert.deepEqual(r.compactedDays, [new Date(TODAY - 2 * DAY).toISOString().slice(0, 10), new Date(TODAY - DAY).toISOString().slice(0, 10)]);
  assert.deepEqual((await runMaintenance(db.sql, opts)).compactedDays, []);
  assert.deepEqual(await aggregateDrift(db.sql), []);
});

test('maintenance - a late event within retention gets its day’s partition and moves there; counts do not change', async () => {
  await runMaintenance(db.sql, opts);
  const late = [ev('late-1', TODAY - 5 * DAY + 1_000), ev('late-2', TODAY - 5 * DAY + 3_600_000), ev('late-3', TODAY - 9 * DAY)];
  await flush(late);
  assert.deepEqual(await where(), { events_default: 3 });
  const before = await total(TODAY - 10 * DAY, TODAY);

  const r = await runMaintenance(db.sql, opts);
  assert.deepEqual(r.created, ['events_p20261111', 'events_p20261115']);
  assert.equal(r.movedRows, 3);
  assert.equal(r.defaultRows, 0);
  assert.deepEqual(await where(), { events_p20261111: 1, events_p20261115: 2 });
  assert.equal(await total(TODAY - 10 * DAY, TODAY), before);
  assert.equal(before, 3);
});

test('maintenance - a far-future event waits in the default partition, counted, until its day comes within aheadDays', async () => {
  await runMaintenance(db.sql, opts);
  const future = TODAY + 30 * DAY + 5_000;
  await flush([ev('future', future), ev('now', NOW.getTime())]);
  const r = await runMaintenance(db.sql, opts);
  assert.equal(r.defaultRows, 1, 'the default partition holds the far-future event');
  assert.deepEqual(r.created, []);
  assert.deepEqual(await where(), { events_default: 1, events_p20261120: 1 });

  // 29 days later its day is within aheadDays: the partition is made ahead and adopts it.
  const later = await runMaintenance(db.sql, { ...opts, now: new Date(NOW.getTime() + 29 * DAY) });
  assert.ok(later.created.includes('events_p20261220'), later.created.join());
  assert.equal(later.movedRows, 1);
  assert.equal(later.defaultRows, 0);
  assert.equal(await total(future - 60_000, future + 60_000), 1);
});

test('maintenance - whole days older than retention are dropped, the day at the cutoff is kept, and old default rows are deleted', async () => {
  // Partitions for 12 days back to today, one event each, plus one too-old event in default.
  await runMaintenance(db.sql, { ...opts, now: new Date(TODAY - 12 * DAY) });
  for (let d = 12; d >= 0; d -= 1) await runMaintenance(db.sql, { ...opts, now: new Date(TODAY - d * DAY), retentionDays: 100 });
  const days = Array.from({ length: 13 }, (_, i) => TODAY - (12 - i) * DAY + 7_200_000);
  await flush(days.map((at, i) => ev(`d-${i}`, at)));
  await db.sql`drop table events_p20261108`;
  await flush([ev('too-old', TODAY - 12 * DAY + 60_000)]);
  assert.equal((await where())['events_default'], 1);

  const r = await runMaintenance(db.sql, opts);
  // retentionDays 10: the cutoff is 2026-11-10T00:00Z; days ending by then go (11-07 was made
  // as "yesterday" of the first run; 11-08 was dropped above to send an event to the default).
  assert.deepEqual(r.dropped, ['events_p20261107', 'events_p20261109']);
  assert.equal(r.expiredDefaultRows, 1);
  assert.deepEqual((await partitions())[0], 'events_p20261110');
  assert.equal(await total(TODAY - 10 * DAY, TODAY + DAY), 11);
  const [{ n }] = await db.sql<[{ n: number }]>`select count(*)::int as n from events where occurred_at < ${new Date(TODAY - 10 * DAY)}`;
  assert.equal(n, 0);
});

test('maintenance - rollups of every level and the user activity outlive the events, for their own retention', async () => {
  await db.sql`insert into rollups_minute (bucket, source, type, events) values
    (${new Date(TODAY - 41 * DAY)}, 's', 'gone', 1), (${new Date(TODAY - 40 * DAY - 60_000)}, 's', 'gone', 1),
    (${new Date(TODAY - 40 * DAY)}, 's', 'kept', 1), (${new Date(TODAY - 20 * DAY)}, 's', 'kept', 1)`;
  await db.sql`insert into rollups_day (bucket, source, type, events) values
    (${new Date(TODAY - 41 * DAY)}, 's', 'gone', 1), (${new Date(TODAY - 40 * DAY)}, 's', 'kept', 1)`;
  await db.sql`insert into activity_sets_hour (bucket, source, type, users, events) values
    (${new Date(TODAY - 40 * DAY - 3_600_000)}, 's', 'gone', '{1}', '{1}'), (${new Date(TODAY - 40 * DAY)}, 's', 'kept', '{1}', '{1}')`;
  const r = await runMaintenance(db.sql, opts);
  assert.equal(r.expiredRollupRows, 4, 'two minutes, one day and one hour of activity');
  assert.deepEqual((await db.sql`select type from rollups_minute order by bucket`).map((x) => x['type']), ['kept', 'kept']);
  assert.deepEqual((await db.sql`select type from rollups_day order by bucket`).map((x) => x['type']), ['kept']);
  assert.deepEqual((await db.sql`select type from activity_sets_hour order by bucket`).map((x) => x['type']), ['kept']);
  // A rollup retention shorter than the events' is raised to it: reports need both.
  await db.sql`insert into rollups_minute (bucket, source, type, events) values (${new Date(TODAY - 9 * DAY)}, 's', 'kept', 1)`;
  const short = await runMaintenance(db.sql, { ...opts, rollupRetentionDays: 1 });
  assert.equal(short.expiredRollupRows, 4, 'only the rows older than the 10-day events retention');
});

test('maintenance - a drop that would wait behind another transaction’s lock is deferred to the next run, not queued', async () => {
  await runMaintenance(db.sql, { ...opts, now: new Date(TODAY - 20 * DAY), aheadDays: 0 });
  const holder = await db.sql.reserve();
  try {
    await holder`begin`;
    await holder`select count(*) from events`;
    const started = Date.now();
    const r = await runMaintenance(db.sql, { ...opts, lockTimeoutMs: 200 });
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(r.dropped, []);
    assert.match(r.deferred.join('\n'), /drop events_p20261030: .*lock timeout/);
  } finally {
    await holder`rollback`;
    holder.release();
  }
  assert.deepEqual((await runMaintenance(db.sql, opts)).dropped, ['events_p20261030', 'events_p20261031']);
});

test('maintenance - two processes at once: one runs, the other says it did not', async () => {
  const [a, b] = await Promise.all([runMaintenance(db.connect({ max: 2 }), opts), runMaintenance(db.connect({ max: 2 }), opts)]);
  assert.deepEqual([a.ran, b.ran].sort(), [false, true]);
  assert.equal((await partitions()).length, 4);
});
