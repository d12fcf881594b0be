// The time series against the oracle: random events stored through the real flush (with
// resends), answers compared exactly for unaligned windows, zones at +05:30 and +05:45, both
// 2026 New York DST days, Lord Howe's 30-minute DST step, filters, a long window of ~10,000
// days, and the point limit.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { generateEvents, oracleBucketStarts, oracleSeries } from '../test/support/analytics-oracle.ts';
import { flushBatch } from './flush.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';
import { MAX_POINTS, timeseries, type Interval } from './timeseries.ts';
import { TooManyBucketsError } from './tz.ts';

let db: TestDatabase;
let events: KeyflowEvent[] = [];
const Z = (s: string): number => Date.parse(s);
const H = 3_600_000;

before(async () => {
  db = await createTestDatabase();
  const types = ['view', 'cart', 'buy', 'refund', 'search', 'share'];
  events = [
    ...generateEvents({ seed: 7, n: 1500, spans: [[Z('2026-03-07T00:00:00Z'), Z('2026-03-10T00:00:00Z')], [Z('2026-10-31T00:00:00Z'), Z('2026-11-03T00:00:00Z')]], types, users: 25 }),
    ...generateEvents({ seed: 8, n: 200, spans: [[0, Z('1997-05-01T00:00:00Z')]], types, users: 10 }),
    // Lord Howe Island moves from +10:30 to +11:00 at 2026-10-03T15:30Z (02:00 local).
    ...generateEvents({ seed: 9, n: 500, spans: [[Z('2026-10-02T00:00:00Z'), Z('2026-10-06T00:00:00Z')]], types, users: 20 }),
  ];
  const flush = (es: readonly KeyflowEvent[]) => flushBatch(db.sql, { events: es, partitionKeys: es.map((e) => partitionKeyOf(e)), deadLetters: [] });
  for (let i = 0; i < events.length; i += 400) await flush(events.slice(i, i + 400));
  await flush(events.slice(100, 700)); // resent: stored and counted once
});
after(() => db?.drop());

async function check(tz: string, interval: Interval, from: string, to: string, f: { source?: string[]; type?: string[]; funnelStage?: 'top' | 'bottom' } = {}) {
  const got = await timeseries(db.sql, { from: new Date(from), to: new Date(to), interval, tz, ...f });
  const starts = oracleBucketStarts(tz, interval, Z(from), Z(to));
  assert.deepEqual(got.map((p) => p.t), starts, `${tz} ${interval} ${from}..${to}: bucket starts`);
  assert.deepEqual(got, oracleSeries(events, starts, Z(from), Z(to), f), `${tz} ${interval} ${from}..${to}`);
  return got;
}

test('timeseries - unaligned windows in UTC at 1m, 1h and 1d equal the oracle', async () => {
  await check('UTC', '1m', '2026-03-07T10:00:07.250Z', '2026-03-07T13:59:31Z');
  await check('UTC', '1h', '2026-03-07T10:17:07.250Z', '2026-03-09T13:59:31Z');
  await check('UTC', '1d', '2026-03-06T23:59:59.999Z', '2026-03-10T00:00:00.001Z');
});

test('timeseries - Kolkata (+05:30) and Kathmandu (+05:45) align buckets on their wall clock', async () => {
  for (const tz of ['Asia/Kolkata', 'Asia/Kathmandu']) {
    await check(tz, '1h', '2026-03-07T03:05:00Z', '2026-03-08T11:00:00Z');
    const d = await check(tz, '1d', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z');
    assert.equal(d.length, 4);
  }
});

test('timeseries - New York on 2026-03-08 (23 h) and 2026-11-01 (25 h)', async () => {
  const ny = 'America/New_York';
  const spring = await check(ny, '1d', '2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z');
  assert.deepEqual(spring.map((p, i) => (spring[i + 1]?.t ?? Z('2026-03-10T04:00:00Z')) - p.t), [24 * H, 23 * H, 24 * H]);
  const fall = await check(ny, '1d', '2026-10-31T04:00:00Z', '2026-11-03T05:00:00Z');
  assert.deepEqual(fall.map((p, i) => (fall[i + 1]?.t ?? Z('2026-11-03T05:00:00Z')) - p.t), [24 * H, 25 * H, 24 * H]);
  assert.equal((await check(ny, '1h', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z')).length, 23);
  assert.equal((await check(ny, '1h', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z')).length, 25);
  await check(ny, '1m', '2026-11-01T05:30:10Z', '2026-11-01T06:30:00Z');
});

test('timeseries - 1h and 1d in zones off the UTC hour, across days, with unaligned edges', async () => {
  for (const tz of ['Asia/Kathmandu', 'Asia/Kolkata', 'America/New_York']) {
    await check(tz, '1h', '2026-03-07T00:07:31.5Z', '2026-03-09T22:59:59.999Z');
    await check(tz, '1d', '2026-03-06T13:14:15.001Z', '2026-03-10T00:00:00Z');
    await check(tz, '1d', '2026-10-30T22:10:00Z', '2026-11-03T00:00:00.002Z');
  }
});

test('timeseries - Lord Howe (+10:30, a 30-minute DST step): a 23.5 h day and its hours', async () => {
  const lh = 'Australia/Lord_Howe';
  const days = await check(lh, '1d', '2026-10-01T13:30:00Z', '2026-10-05T13:00:00Z');
  assert.deepEqual(days.map((p, i) => (days[i + 1]?.t ?? Z('2026-10-05T13:00:00Z')) - p.t), [24 * H, 24 * H, 23.5 * H, 24 * H]);
  await check(lh, '1d', '2026-10-02T05:05:05Z', '2026-10-05T22:00:00Z');
  await check(lh, '1h', '2026-10-03T01:00:00Z', '2026-10-04T03:17:00Z');
  await check(lh, '1m', '2026-10-03T15:00:00Z', '2026-10-03T16:00:00Z');
});

test('timeseries - filters (source, type list, funnelStage) apply to every level', async () => {
  await check('UTC', '1h', '2026-10-31T01:30:00Z', '2026-11-02T22:10:00Z', { source: ['web'], type: ['buy', 'refund'] });
  await check('Asia/Kolkata', '1d', '2026-10-30T00:00:00Z', '2026-11-04T00:00:00Z', { funnelStage: 'top' });
});

test('timeseries - a window of about 10,000 days reads the day level and still equals the oracle', async () => {
  const from = '1970-01-01T00:00:00Z';
  const to = new Date(9_999 * 24 * H + 1234).toISOString();
  const got = await timeseries(db.sql, { from: new Date(from), to: new Date(to), interval: '1d', tz: 'UTC' });
  const starts = Array.from({ length: 10_000 }, (_, i) => i * 24 * H);
  assert.deepEqual(got.map((p) => p.t), starts);
  assert.deepEqual(got, oracleSeries(events, starts, Z(from), Z(to)));
  assert.ok(got.some((p) => p.events > 0));
});

test('timeseries - all of time at 1d is more than 10,000 points: TooManyBucketsError', async () => {
  await assert.rejects(
    timeseries(db.sql, { from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T00:00:00Z'), interval: '1d', tz: 'UTC' }),
    (e) => e instanceof TooManyBucketsError && e.max === MAX_POINTS,
  );
});
