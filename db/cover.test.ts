import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coverWindow, hoursForOpenDays, type Cover, type Range } from './cover.ts';
import { prng } from '../test/support/events.ts';

const iso = (r: readonly Range[]) => r.map((x) => [x.from.toISOString(), x.to.toISOString()]);
const all = (c: Cover): Range[] => [...c.day, ...c.hour, ...c.minute, ...c.raw].sort((a, b) => a.from.getTime() - b.from.getTime());

test('coverWindow - an unaligned two-day window uses one day range and minute and raw edges', () => {
  const c = coverWindow(Date.parse('2026-01-01T23:59:30Z'), Date.parse('2026-01-03T00:01:00Z'));
  assert.deepEqual(iso(c.day), [['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']]);
  assert.deepEqual(iso(c.hour), []);
  assert.deepEqual(iso(c.minute), [['2026-01-03T00:00:00.000Z', '2026-01-03T00:01:00.000Z']]);
  assert.deepEqual(iso(c.raw), [['2026-01-01T23:59:30.000Z', '2026-01-02T00:00:00.000Z']]);
});

test('coverWindow - all of time is one day range', () => {
  const c = coverWindow(Date.parse('1970-01-01T00:00:00Z'), Date.parse('9999-12-31T00:00:00Z'));
  assert.equal(c.day.length, 1);
  assert.equal(c.hour.length + c.minute.length + c.raw.length, 0);
});

test('coverWindow - with finest hour, sub-hour edges are raw', () => {
  const c = coverWindow(Date.parse('2026-01-01T10:15:00Z'), Date.parse('2026-01-01T12:30:00Z'), { finest: 'hour' });
  assert.deepEqual(iso(c.hour), [['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z']]);
  assert.deepEqual(iso(c.raw), [['2026-01-01T10:15:00.000Z', '2026-01-01T11:00:00.000Z'], ['2026-01-01T12:00:00.000Z', '2026-01-01T12:30:00.000Z']]);
  assert.equal(c.minute.length, 0);
});

test('coverWindow - an empty or inverted window has no parts', () => {
  assert.equal(all(coverWindow(5, 5)).length, 0);
  assert.equal(all(coverWindow(9, 5)).length, 0);
});

test('coverWindow - random windows are tiled exactly, each range aligned to its level', () => {
  const rnd = prng(42);
  for (let i = 0; i < 2000; i++) {
    const from = Math.floor((rnd() - 0.3) * 5 * 86_400_000 * 400);
    const to = from + Math.floor(rnd() ** 3 * 86_400_000 * 40);
    for (const finest of ['minute', 'hour'] as const) {
      const c = coverWindow(from, to, { finest });
      const parts = all(c);
      if (from >= to) {
        assert.equal(parts.length, 0);
        continue;
      }
      let at = from;
      for (const p of parts) {
        assert.equal(p.from.getTime(), at, 'contiguous');
        assert.ok(p.from < p.to, 'non-empty');
        at = p.to.getTime();
      }
      assert.equal(at, to, 'covers up to to');
      for (const [level, unit] of [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000]] as const) {
        for (const p of c[level]) {
          assert.equal(((p.from.getTime() % unit) + unit) % unit, 0, `${level} start aligned`);
          assert.equal(((p.to.getTime() % unit) + unit) % unit, 0, `${level} end aligned`);
        }
      }
      assert.ok(c.day.length <= 1 && c.hour.length <= 2 && c.minute.length <= 2 && c.raw.length <= 2);
    }
  }
});

/** Adjacent ranges joined: two covers of the same instants give the same list. */
function merged(ranges: readonly Range[]): [number, number][] {
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === r.from.getTime()) last[1] = r.to.getTime();
    else out.push([r.from.getTime(), r.to.getTime()]);
  }
  return out;
}

test('hoursForOpenDays - an open day leaves its day range for its 24 hours; the union is unchanged', () => {
  const c = coverWindow(Date.parse('2026-01-01T10:00:00Z'), Date.parse('2026-01-05T00:00:00Z'), { finest: 'hour' });
  const open = new Set([Date.parse('2026-01-03T00:00:00Z'), Date.parse('2026-01-09T00:00:00Z')]);
  const s = hoursForOpenDays(c, open);
  assert.deepEqual(iso(s.day), [['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'], ['2026-01-04T00:00:00.000Z', '2026-01-05T00:00:00.000Z']]);
  assert.deepEqual(iso(s.hour), [['2026-01-01T10:00:00.000Z', '2026-01-02T00:00:00.000Z'], ['2026-01-03T00:00:00.000Z', '2026-01-04T00:00:00.000Z']]);
  assert.deepEqual(merged(all(s)), merged(all(c)));
  assert.equal(hoursForOpenDays(c, new Set()), c);
});

test('hoursForOpenDays - random windows and open days: disjoint, sorted, and the same union', () => {
  const r = prng(77);
  for (let k = 0; k < 500; k++) {
    const from = Date.parse('2026-01-01T00:00:00Z') + Math.floor(r() * 20 * 86_400_000);
    const to = from + Math.floor(r() * 15 * 86_400_000);
    const c = coverWindow(from, to, { finest: 'hour' });
    const open = new Set(Array.from({ length: 4 }, () => Date.parse('2026-01-01T00:00:00Z') + Math.floor(r() * 40) * 86_400_000));
    const s = hoursForOpenDays(c, open);
    const parts = all(s);
    for (let i = 1; i < parts.length; i++) assert.ok((parts[i - 1] as Range).to <= (parts[i] as Range).from);
    assert.deepEqual(merged(parts), merged(all(c)));
    for (const d of s.day) for (const o of open) assert.ok(o + 86_400_000 <= d.from.getTime() || o >= d.to.getTime(), 'no open day stays in a day range');
  }
});
