// Reads: one event round-trips, reports are exact at their edges, dead letters page newest first.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { InvalidCursorError } from './errors.ts';
import { createHash } from 'node:crypto';
import { boundDeadLetter } from './dead-letter.ts';
import { flushBatch, type DeadLetterRow } from './flush.ts';
import { getEvent, listDeadLetters } from './queries.ts';
import { reportEvents, type ReportGroupKey } from './report-events.ts';
import { sampleEvents } from './sample-events.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

const flush = (events: readonly KeyflowEvent[], deadLetters: readonly DeadLetterRow[] = []) =>
  flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters });

const T = (hms: string, day = '2026-11-20'): number => Date.parse(`${day}T${hms}Z`);

// getEvent — each test uses ids of its own.

test('getEvent - every field round-trips, occurredAt to the millisecond', async () => {
  const e: KeyflowEvent = {
    id: 'g-full', type: 'checkout.complete', source: 'facebook', occurredAt: T('12:00:00.123'),
    userId: 'u-42', sessionId: 's-1', funnelStage: 'bottom', revenue: { amount: 19.99, currency: 'USD' },
    user: { age: 25, gender: 'female', country: 'US', city: 'New York' },
    properties: { page: '/checkout', ref: 'newsfeed', n: -1.5, ok: true, none: null },
  };
  const t0 = Date.now();
  await flush([e]);
  const got = await getEvent(db.sql, 'g-full');
  assert.ok(got);
  const { receivedAt, ...rest } = got;
  assert.deepEqual(rest, { ...e, occurredAt: '2026-11-20T12:00:00.123Z' });
  assert.ok(Math.abs(Date.parse(receivedAt) - t0) < 60_000, `receivedAt ${receivedAt} is about now`);
});

test('getEvent - absent fields stay absent, and partial demographics stay partial', async () => {
  const e: KeyflowEvent = { id: 'g-min', type: 't', source: 's', occurredAt: 0, user: { country: 'DE' } };
  await flush([e]);
  const { receivedAt: _, ...rest } = (await getEvent(db.sql, 'g-min')) ?? { receivedAt: '' };
  assert.deepEqual(rest, { id: 'g-min', type: 't', source: 's', occurredAt: '1970-01-01T00:00:00.000Z', user: { country: 'DE' } });
});

test('getEvent - of several events sharing an id, the newest occurredAt is returned', async () => {
  await flush([
    { id: 'g-many', type: 'old', source: 's', occurredAt: T('12:00:00') },
    { id: 'g-many', type: 'new', source: 's', occurredAt: T('12:00:00', '2026-11-21') },
    { id: 'g-many', type: 'mid', source: 's', occurredAt: T('13:00:00') },
  ]);
  assert.equal((await getEvent(db.sql, 'g-many'))?.type, 'new');
});

test('getEvent - an unknown id gives undefined', async () => {
  assert.equal(await getEvent(db.sql, 'g-nobody'), undefined);
});

// reportEvents — on 2026-12-01, a day no other test here writes to.

const D = '2026-12-01';
const ev = (id: string, hms: string, extra: Partial<KeyflowEvent> = {}): KeyflowEvent =>
  ({ id, type: 'view', source: 'web', occurredAt: T(hms, D), ...extra });
const range = (from: string, to: string) => ({ from: new Date(T(from, D)), to: new Date(T(to, D)) });

test('reportEvents - from is inclusive and exact inside its minute: 12:00:30 excludes 12:00:10, includes 12:00:30 and 12:00:40', async () => {
  await flush([ev('e-10', '12:00:10'), ev('e-30', '12:00:30'), ev('e-40', '12:00:40'), ev('e-mid', '12:02:00'), ev('e-late', '12:05:10'), ev('e-20', '12:05:20'), ev('e-end', '12:05:30')]);
  assert.equal((await reportEvents(db.sql, { ...range('12:00:30', '12:04:00'), groupBy: [] })).total, 3);
  assert.equal((await reportEvents(db.sql, { ...range('12:00:30.001', '12:04:00'), groupBy: [] })).total, 2);
  assert.equal((await reportEvents(db.sql, { ...range('12:00:00', '12:04:00'), groupBy: [] })).total, 4);
});

test('reportEvents - to is exclusive and exact inside its minute: 12:05:20 includes 12:05:10, excludes 12:05:20 and 12:05:30', async () => {
  assert.equal((await reportEvents(db.sql, { ...range('12:01:00', '12:05:20'), groupBy: [] })).total, 2);
  assert.equal((await reportEvents(db.sql, { ...range('12:01:00', '12:05:20.001'), groupBy: [] })).total, 3);
  assert.equal((await reportEvents(db.sql, { ...range('12:01:00', '12:06:00'), groupBy: [] })).total, 4);
  // Inside one minute, and across one minute boundary with no whole minute between.
  assert.equal((await reportEvents(db.sql, { ...range('12:05:15', '12:05:25'), groupBy: [] })).total, 1);
  assert.equal((await reportEvents(db.sql, { ...range('12:00:35', '12:01:05'), groupBy: [] })).total, 1);
  assert.equal((await reportEvents(db.sql, { ...range('12:05:20', '12:05:20'), groupBy: [] })).total, 0);
});

test('reportEvents - filters and groups, sorted by count then keys, with no funnel stage as null', async () => {
  const at = (s: number) => `13:00:${String(s).padStart(2, '0')}`;
  await flush([
    ev('f1', at(1), { source: 'fb', type: 'click', funnelStage: 'top' }),
    ev('f2', at(2), { source: 'fb', type: 'click', funnelStage: 'top' }),
    ev('f3', at(3), { source: 'tt', type: 'click', funnelStage: 'top' }),
    ev('f4', at(4), { source: 'tt', type: 'buy', funnelStage: 'bottom', revenue: { amount: 5, currency: 'USD' } }),
    ev('f5', at(5), { source: 'fb', type: 'view' }),
    ev('f6', at(6), { source: 'tt', type: 'view' }),
  ]);
  const r = range('12:59:30', '13:02:00');
  assert.deepEqual(await reportEvents(db.sql, { ...r, groupBy: ['source'] }), {
    total: 6, groups: [{ source: 'fb', count: 3 }, { source: 'tt', count: 3 }],
  });
  assert.deepEqual(await reportEvents(db.sql, { ...r, groupBy: ['funnelStage', 'type'] }), {
    total: 6,
    groups: [
      { funnelStage: 'top', type: 'click', count: 3 },
      { funnelStage: null, type: 'view', count: 2 },
      { funnelStage: 'bottom', type: 'buy', count: 1 },
    ],
  });
  assert.deepEqual(await reportEvents(db.sql, { ...r, source: ['tt'], funnelStage: 'top', groupBy: ['type', 'source'] }), {
    total: 1, groups: [{ type: 'click', source: 'tt', count: 1 }],
  });
  assert.deepEqual(await reportEvents(db.sql, { ...r, type: ['view'], groupBy: [] }), { total: 2, groups: [] });
  assert.deepEqual(await reportEvents(db.sql, { ...r, type: ['nothing'], groupBy: ['type'] }), { total: 0, groups: [] });
});

test('reportEvents - any range, to the millisecond, counts exactly what a scan of the events counts', async () => {
  const day = Date.UTC(2026, 11, 2, 9);
  const events = sampleEvents(1500, { seed: 21, fromMs: day, spreadMs: 15 * 60_000 });
  await flush(events);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const groupings: ReportGroupKey[][] = [[], ['source'], ['type', 'funnelStage'], ['funnelStage', 'source', 'type']];
  for (let i = 0; i < 40; i++) {
    const a = day - 60_000 + Math.floor(rand() * 17 * 60_000);
    const b = a + Math.floor(rand() * 8 * 60_000);
    const groupBy = groupings[i % groupings.length]!;
    const source = i % 5 === 0 ? 'google' : undefined;
    const inRange = events.filter((e) => e.occurredAt >= a && e.occurredAt < b && (source === undefined || e.source === source));
    const counts = new Map<string, number>();
    for (const e of inRange) {
      const key = JSON.stringify(groupBy.map((k) => (k === 'funnelStage' ? (e.funnelStage ?? null) : e[k])));
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const got = await reportEvents(db.sql, { from: new Date(a), to: new Date(b), groupBy, ...(source !== undefined && { source: [source] }) });
    assert.equal(got.total, inRange.length, `total over [${new Date(a).toISOString()}, ${new Date(b).toISOString()})`);
    if (groupBy.length === 0) continue;
    assert.deepEqual(
      new Map(got.groups.map((g) => [JSON.stringify(groupBy.map((k) => g[k])), g.count])),
      counts,
    );
    const sorted = got.groups.every((g, j, gs) => j === 0 || gs[j - 1]!.count >= g.count);
    assert.ok(sorted, 'groups sorted by count, descending');
  }
});

// listDeadLetters

test('listDeadLetters - newest first, in pages joined by an opaque cursor, bytes as base64 with a text preview', async () => {
  const dl = (i: number): DeadLetterRow => ({
    topic: 'keyflow.events', partition: i % 3, offset: String(100 + i), key: i === 0 ? null : new TextEncoder().encode(`k${i}`),
    raw: i === 1 ? null : new Uint8Array([...new TextEncoder().encode(`{"n":${i}`), 0xff]), reason: 'not-json', error: `bad ${i}`,
  });
  await flush([], [dl(0), dl(1), dl(2)]);
  await flush([], [dl(3), dl(4)]);

  const p1 = await listDeadLetters(db.sql, { limit: 2 });
  assert.deepEqual(p1.items.map((d) => d.offset), ['104', '103']);
  assert.ok(p1.nextCursor !== null && !p1.nextCursor.includes('103'));
  const first = p1.items[0]!;
  assert.deepEqual(
    { key: first.key, raw: first.raw, preview: first.rawPreview, error: first.error, partition: first.partition },
    { key: Buffer.from('k4').toString('base64'), raw: Buffer.from([...Buffer.from('{"n":4'), 0xff]).toString('base64'), preview: '{"n":4\ufffd', error: 'bad 4', partition: 1 },
  );
  assert.ok(!Number.isNaN(Date.parse(first.createdAt)));

  const p2 = await listDeadLetters(db.sql, { limit: 2, cursor: p1.nextCursor });
  assert.deepEqual(p2.items.map((d) => d.offset), ['102', '101']);
  assert.deepEqual({ raw: p2.items[1]?.raw, preview: p2.items[1]?.rawPreview }, { raw: null, preview: null });
  assert.ok(p2.nextCursor !== null);
  const p3 = await listDeadLetters(db.sql, { limit: 2, cursor: p2.nextCursor });
  assert.deepEqual({ offsets: p3.items.map((d) => d.offset), key: p3.items[0]?.key, next: p3.nextCursor }, { offsets: ['100'], key: null, next: null });
});

test('listDeadLetters - a cursor it did not hand out is refused', async () => {
  for (const cursor of ['', 'abc', Buffer.from('dl1:-1').toString('base64url'), Buffer.from('dl1:99999999999999999999').toString('base64url')]) {
    await assert.rejects(listDeadLetters(db.sql, { limit: 10, cursor }), InvalidCursorError);
  }
});

test('listDeadLetters - answers are bounded in bytes: a value shows its first rawItemBytes with its whole length and SHA-256, and a page ends early with a cursor once its values pass pageRawBytes', async () => {
  await db.sql`truncate dead_letters`;
  const value = (n: number, fill: number) => new Uint8Array(n).fill(fill);
  // Stored whole (as before migration 0007), then bounded by the worker, then small.
  await flush([], [{ topic: 't', partition: 0, offset: '1', key: null, raw: value(300_000, 0x41), reason: 'not-json', error: 'e'.repeat(5_000) }]);
  await flush([], [{ ...boundDeadLetter({ topic: 't', partition: 0, offset: '2', key: null, raw: value(900_000, 0x42), reason: 'not-json', error: 'x' }, 65_536), lastOffset: '9' }]);
  for (const offset of ['10', '11', '12']) await flush([], [{ topic: 't', partition: 0, offset, key: null, raw: value(50_000, 0x43), reason: 'not-json', error: 'x' }]);

  const p1 = await listDeadLetters(db.sql, { limit: 10, rawItemBytes: 60_000, pageRawBytes: 120_000 });
  assert.deepEqual(p1.items.map((d) => d.offset), ['12', '11'], 'two 50,000-byte values fit 120,000; a third would not');
  assert.ok(p1.nextCursor !== null);
  const p2 = await listDeadLetters(db.sql, { limit: 10, rawItemBytes: 60_000, pageRawBytes: 120_000, cursor: p1.nextCursor });
  assert.deepEqual(p2.items.map((d) => d.offset), ['10', '2']);
  const bounded = p2.items[1]!;
  assert.deepEqual(
    { shown: Buffer.from(bounded.raw!, 'base64').byteLength, length: bounded.rawLength, sha: bounded.rawSha256, truncated: bounded.rawTruncated, last: bounded.lastOffset },
    { shown: 60_000, length: 900_000, sha: createHash('sha256').update(value(900_000, 0x42)).digest('hex'), truncated: true, last: '9' },
  );
  const p3 = await listDeadLetters(db.sql, { limit: 10, rawItemBytes: 60_000, pageRawBytes: 120_000, cursor: p2.nextCursor! });
  const old = p3.items[0]!;
  assert.deepEqual({ offsets: p3.items.map((d) => d.offset), next: p3.nextCursor, length: old.rawLength, truncated: old.rawTruncated, lastOffset: old.lastOffset }, { offsets: ['1'], next: null, length: 300_000, truncated: true, lastOffset: null });
  assert.equal(old.rawSha256, createHash('sha256').update(value(300_000, 0x41)).digest('hex'));
  assert.equal([...old.error].length, 2_048);
  assert.ok(old.error.endsWith('…'));
  const small = p1.items[0]!;
  assert.deepEqual({ truncated: small.rawTruncated, length: small.rawLength }, { truncated: false, length: 50_000 });
});
