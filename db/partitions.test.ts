// Daily partitions exist ahead of time, are made once even by racing processes, and adopt
// rows that had landed in the default partition.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { flushBatch } from './flush.ts';
import { ensurePartitions, partitionName } from './partitions.ts';
import { sampleEvents } from './sample-events.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

async function partitions(): Promise<string[]> {
  const rows = await db.sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'events'::regclass and c.relname <> 'events_default' order by 1`;
  return rows.map((r) => r.name);
}

async function partitionOf(at: string): Promise<string | undefined> {
  const [row] = await db.sql<{ name: string }[]>`select tableoid::regclass::text as name from events where occurred_at = ${new Date(at)}`;
  return row?.name;
}

test('partitions - the UTC days from behindDays before today to aheadDays after exist, each holding its own day', async () => {
  // 23:30 in New York on March 10 is already March 11 in UTC.
  const r = await ensurePartitions(db.sql, { aheadDays: 2, behindDays: 1, now: new Date('2026-03-10T23:30:00-05:00') });
  const expected = ['events_p20260310', 'events_p20260311', 'events_p20260312', 'events_p20260313'];
  assert.deepEqual(r, { created: expected, movedRows: 0 });
  assert.deepEqual(await partitions(), expected);

  const edges = ['2026-03-10T00:00:00.000Z', '2026-03-12T23:59:59.999Z', '2026-03-13T00:00:00.000Z', '2026-03-14T00:00:00.000Z'];
  const events = edges.map((at, i) => ({ id: `edge-${i}`, type: 't', source: 's', occurredAt: Date.parse(at) }));
  await flushBatch(db.sql, { events, partitionKeys: events.map((e) => e.id), deadLetters: [] });
  assert.deepEqual(
    await Promise.all(edges.map(partitionOf)),
    ['events_p20260310', 'events_p20260312', 'events_p20260313', 'events_default'],
  );
});

test('partitions - running again, or from two processes at once, creates each day once and fails neither', async () => {
  const now = new Date('2026-03-20T08:00:00Z');
  const [a, b] = await Promise.all([
    ensurePartitions(db.connect({ max: 1 }), { aheadDays: 3, now }),
    ensurePartitions(db.connect({ max: 1 }), { aheadDays: 3, now }),
  ]);
  assert.deepEqual(
    [...a.created, ...b.created].sort(),
    ['events_p20260319', 'events_p20260320', 'events_p20260321', 'events_p20260322', 'events_p20260323'],
  );
  assert.deepEqual(await ensurePartitions(db.sql, { aheadDays: 3, now }), { created: [], movedRows: 0 });
});

test('partitions - rows that landed in the default partition move into their day when it is created', async () => {
  const day = Date.UTC(2030, 0, 5);
  const inDay = sampleEvents(40, { seed: 3, fromMs: day, spreadMs: 86_400_000 });
  const nextDay = sampleEvents(5, { seed: 4, fromMs: day + 86_400_000, spreadMs: 3_600_000 });
  const all = [...inDay, ...nextDay];
  await flushBatch(db.sql, { events: all, partitionKeys: all.map((e) => e.id), deadLetters: [] });
  const rollupsBefore = await db.sql`select * from rollups_minute order by bucket, source, type, funnel_stage, currency`;

  const r = await ensurePartitions(db.sql, { aheadDays: 0, behindDays: 0, now: new Date(day + 3_600_000) });
  assert.deepEqual(r, { created: ['events_p20300105'], movedRows: 40 });

  const where = await db.sql<{ name: string; n: number }[]>`
    select tableoid::regclass::text as name, count(*)::int as n from events
    where occurred_at >= ${new Date(day)} group by 1 order by 1`;
  assert.deepEqual([...where], [{ name: 'events_default', n: 5 }, { name: 'events_p20300105', n: 40 }]);
  // Moving rows is not inserting events: the rollups must not change.
  assert.deepEqual(await db.sql`select * from rollups_minute order by bucket, source, type, funnel_stage, currency`, rollupsBefore);
  // Every moved row is intact, down to its receivedAt.
  const [same] = await db.sql<{ n: number }[]>`select count(*)::int as n from events where occurred_at >= ${new Date(day)} and occurred_at < ${new Date(day + 86_400_000)} and received_at is not null and partition_key <> ''`;
  assert.equal(same?.n, 40);
});

test('partitions - names follow the UTC day of the instant', () => {
  assert.equal(partitionName(new Date('2026-12-31T23:59:59.999Z')), 'events_p20261231');
  assert.equal(partitionName(Date.parse('2027-01-01T00:00:00+01:00')), 'events_p20261231');
});
