import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyflowEvent } from '../actors/index.ts';
import { flushBatch } from './flush.ts';
import { getEvent } from './queries.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';
import { parsePgTimestamp } from './timestamps.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase({ migrated: true });
});
after(async () => {
  await db?.drop();
});

const INSTANTS = ['0001-01-01T00:00:00.000Z', '0049-06-15T12:34:56.789Z', '0099-12-31T23:59:59.999Z', '0100-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1999-01-01T00:00:00.000Z', '2026-11-20T12:00:00.001Z', '9999-12-31T23:59:59.999Z'];

test('timestamps - the ISO output of PostgreSQL parses to the instant it names, any year, any offset', () => {
  assert.equal(parsePgTimestamp('0001-01-01 00:00:00+00').toISOString(), '0001-01-01T00:00:00.000Z');
  assert.equal(parsePgTimestamp('0049-01-01 00:00:00.5+00').toISOString(), '0049-01-01T00:00:00.500Z');
  assert.equal(parsePgTimestamp('0099-12-31 23:59:59.999999+00').toISOString(), '0099-12-31T23:59:59.999Z');
  assert.equal(parsePgTimestamp('2026-11-20 17:30:00+05:30').toISOString(), '2026-11-20T12:00:00.000Z');
  assert.equal(parsePgTimestamp('1883-11-18 12:03:58-00:03:58').toISOString(), '1883-11-18T12:07:56.000Z');
  assert.equal(parsePgTimestamp('0001-12-31 00:00:00+00 BC').getUTCFullYear(), 0);
  assert.equal(parsePgTimestamp('2026-11-20').toISOString(), '2026-11-20T00:00:00.000Z');
  assert.equal(parsePgTimestamp('0010-02-03 04:05:06').toISOString(), '0010-02-03T04:05:06.000Z');
  assert.equal(parsePgTimestamp('infinity').getTime(), 8.64e15);
});

test('timestamps - every instant, year 0001 included, round-trips through PostgreSQL as a parameter and a column', async () => {
  for (const iso of INSTANTS) {
    const [row] = await db.sql<[{ t: Date; d: Date; txt: string }]>`select ${new Date(iso)}::timestamptz as t, date_trunc('day', ${new Date(iso)}::timestamptz, 'UTC') as d, ${new Date(iso)}::timestamptz::text as txt`;
    assert.equal(row.t.toISOString(), iso, `${iso} (server says ${row.txt})`);
    assert.equal(row.d.toISOString(), `${iso.slice(0, 10)}T00:00:00.000Z`);
  }
});

test('timestamps - an event of year 0001, 0049 or 0099 is stored and read back by id exactly', async () => {
  const events: KeyflowEvent[] = INSTANTS.map((iso, i) => ({ id: `y-${i}`, type: 't', source: 's', occurredAt: Date.parse(iso) }));
  const r = await flushBatch(db.sql, { events, partitionKeys: events.map((e) => e.id), deadLetters: [] });
  assert.equal(r.inserted.length, events.length, 'the flush recognises every row it inserted (RETURNING reads the instants back)');
  for (const [i, iso] of INSTANTS.entries()) {
    const got = await getEvent(db.sql, `y-${i}`);
    assert.equal(got?.occurredAt, iso);
  }
  const [{ n }] = await db.sql<[{ n: number }]>`select coalesce(sum(events), 0)::int as n from rollups_minute where bucket < '0100-01-01'`;
  assert.equal(n, 3, 'the rollups hold the early years under their own buckets');
});
