// Bucket boundaries in zones with half-hour and 45-minute offsets and on both 2026 New York DST days.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStart, formatInZone, isTimeZone, nextBucketStart, seriesBuckets, TooManyBucketsError, tzOffsetMs } from './tz.ts';

const Z = (s: string): number => Date.parse(s);
const iso = (ms: number): string => new Date(ms).toISOString();
const starts = (tz: string, interval: '1m' | '1h' | '1d', from: string, to: string): string[] =>
  seriesBuckets(tz, interval, Z(from), Z(to), 10_000).map((b) => iso(b.t));

test('tzOffsetMs - fixed, half-hour, 45-minute and DST offsets', () => {
  assert.equal(tzOffsetMs('UTC', 0), 0);
  assert.equal(tzOffsetMs('Asia/Kolkata', Z('2026-06-01T00:00:00Z')), 5.5 * 3_600_000);
  assert.equal(tzOffsetMs('Asia/Kathmandu', Z('2026-06-01T00:00:00Z')), 5.75 * 3_600_000);
  assert.equal(tzOffsetMs('America/New_York', Z('2026-03-08T06:59:59.999Z')), -5 * 3_600_000);
  assert.equal(tzOffsetMs('America/New_York', Z('2026-03-08T07:00:00Z')), -4 * 3_600_000);
  assert.equal(tzOffsetMs('America/New_York', Z('2026-11-01T05:59:59.999Z')), -4 * 3_600_000);
  assert.equal(tzOffsetMs('America/New_York', Z('2026-11-01T06:00:00Z')), -5 * 3_600_000);
  // Year 1 (printed as 1 BC locally) and local mean time with seconds: -04:56:02.
  assert.equal(tzOffsetMs('America/New_York', Z('0001-01-01T00:00:00Z')), -(4 * 3600 + 56 * 60 + 2) * 1000);
  assert.equal(formatInZone('America/New_York', Z('0001-01-01T00:00:00Z')), '0001-01-01T00:00:00.000Z');
});

test('isTimeZone - IANA names yes, anything else no', () => {
  for (const tz of ['UTC', 'Asia/Kolkata', 'America/New_York', 'Asia/Kathmandu']) assert.ok(isTimeZone(tz), tz);
  for (const tz of ['', 'Mars/Olympus', 'Not a zone', 'x'.repeat(100)]) assert.ok(!isTimeZone(tz), tz);
});

test('1d in New York - 2026-03-08 is 23 hours and 2026-11-01 is 25 hours', () => {
  const ny = 'America/New_York';
  assert.deepEqual(starts(ny, '1d', '2026-03-07T05:00:00Z', '2026-03-10T04:00:00Z'), [
    '2026-03-07T05:00:00.000Z', '2026-03-08T05:00:00.000Z', '2026-03-09T04:00:00.000Z',
  ]);
  assert.equal(nextBucketStart(ny, '1d', Z('2026-03-08T05:00:00Z')) - Z('2026-03-08T05:00:00Z'), 23 * 3_600_000);
  assert.equal(nextBucketStart(ny, '1d', Z('2026-11-01T04:00:00Z')) - Z('2026-11-01T04:00:00Z'), 25 * 3_600_000);
  assert.equal(iso(bucketStart(ny, '1d', Z('2026-11-02T04:59:59.999Z'))), '2026-11-01T04:00:00.000Z');
  assert.equal(iso(bucketStart(ny, '1d', Z('2026-11-02T05:00:00Z'))), '2026-11-02T05:00:00.000Z');
});

test('1h in New York - 23 buckets on the spring day, 25 on the fall day, each one hour', () => {
  const ny = 'America/New_York';
  const spring = seriesBuckets(ny, '1h', Z('2026-03-08T05:00:00Z'), Z('2026-03-09T04:00:00Z'), 10_000);
  assert.equal(spring.length, 23);
  const fall = seriesBuckets(ny, '1h', Z('2026-11-01T04:00:00Z'), Z('2026-11-02T05:00:00Z'), 10_000);
  assert.equal(fall.length, 25);
  for (const b of [...spring, ...fall]) assert.equal(b.to - b.from, 3_600_000);
  assert.deepEqual(fall.slice(0, 3).map((b) => formatInZone(ny, b.t)), [
    '2026-11-01T00:00:00.000-04:00', '2026-11-01T01:00:00.000-04:00', '2026-11-01T01:00:00.000-05:00',
  ]);
  assert.deepEqual(spring.slice(1, 3).map((b) => formatInZone(ny, b.t)), ['2026-03-08T01:00:00.000-05:00', '2026-03-08T03:00:00.000-04:00']);
});

test('Kolkata (+05:30) and Kathmandu (+05:45) - hours and days on their own wall clock', () => {
  assert.deepEqual(starts('Asia/Kolkata', '1h', '2026-01-01T00:00:00Z', '2026-01-01T02:00:00Z'), [
    '2025-12-31T23:30:00.000Z', '2026-01-01T00:30:00.000Z', '2026-01-01T01:30:00.000Z',
  ]);
  assert.deepEqual(starts('Asia/Kathmandu', '1h', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z'), [
    '2025-12-31T23:15:00.000Z', '2026-01-01T00:15:00.000Z',
  ]);
  assert.deepEqual(starts('Asia/Kathmandu', '1d', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'), [
    '2025-12-31T18:15:00.000Z', '2026-01-01T18:15:00.000Z',
  ]);
  assert.equal(formatInZone('Asia/Kathmandu', Z('2025-12-31T18:15:00Z')), '2026-01-01T00:00:00.000+05:45');
  assert.equal(formatInZone('Asia/Kolkata', Z('2025-12-31T18:30:00Z')), '2026-01-01T00:00:00.000+05:30');
  assert.equal(formatInZone('UTC', 0), '1970-01-01T00:00:00.000Z');
});

test('seriesBuckets - the first and last buckets are clipped to the window; minutes align', () => {
  const b = seriesBuckets('UTC', '1m', Z('2026-01-01T00:00:30Z'), Z('2026-01-01T00:02:10Z'), 10_000);
  assert.deepEqual(b.map((x) => [iso(x.t), iso(x.from), iso(x.to)]), [
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:30.000Z', '2026-01-01T00:01:00.000Z'],
    ['2026-01-01T00:01:00.000Z', '2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z'],
    ['2026-01-01T00:02:00.000Z', '2026-01-01T00:02:00.000Z', '2026-01-01T00:02:10.000Z'],
  ]);
});

test('seriesBuckets - more than the maximum throws, at once for all of time', () => {
  assert.throws(() => seriesBuckets('UTC', '1d', 0, Z('9999-12-31T00:00:00Z'), 10_000), TooManyBucketsError);
  assert.throws(() => seriesBuckets('UTC', '1h', 0, 10_001 * 3_600_000, 10_000), TooManyBucketsError);
  assert.equal(seriesBuckets('UTC', '1h', 0, 10_000 * 3_600_000, 10_000).length, 10_000);
  // 10,000 days fit; in New York the DST days do not change the count.
  assert.equal(seriesBuckets('America/New_York', '1d', Z('2000-01-01T05:00:00Z'), Z('2000-01-01T05:00:00Z') + 9_999 * 86_400_000 + 3_600_000, 10_000).length, 10_000);
});
