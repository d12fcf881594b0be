// Zone names from clients: matched in any letter case, echoed in IANA's spelling (never ICU's
// alias), and however many spellings arrive, the caches hold one entry per real zone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { canonicalTimeZone, formatInZone, isTimeZone, tzOffsetMs } from './tz.ts';
import { IANA_ZONE_NAMES } from './tz-names.ts';

test('canonicalTimeZone - any letter case gives the IANA spelling the client meant, never the ICU alias', () => {
  const cases: [string, string][] = [
    ['asia/kolkata', 'Asia/Kolkata'],
    ['ASIA/KOLKATA', 'Asia/Kolkata'],
    ['asia/calcutta', 'Asia/Calcutta'],
    ['europe/kyiv', 'Europe/Kyiv'],
    ['utc', 'UTC'],
    ['etc/utc', 'Etc/UTC'],
    ['etc/gmt+5', 'Etc/GMT+5'],
    ['us/eastern', 'US/Eastern'],
    ['america/port-au-prince', 'America/Port-au-Prince'],
    ['aMerica/argentina/Buenos_aires', 'America/Argentina/Buenos_Aires'],
    ['europe/isle_of_man', 'Europe/Isle_of_Man'],
  ];
  for (const [sent, meant] of cases) assert.equal(canonicalTimeZone(sent), meant, sent);
  // The alias and the IANA name are the same zone: the same offsets.
  const at = Date.parse('2026-06-01T00:00:00Z');
  assert.equal(formatInZone('Asia/Kolkata', at), formatInZone('Asia/Calcutta', at));
});

test('canonicalTimeZone - names IANA does not have, non-ASCII look-alikes and ICU-only ids are refused', () => {
  for (const s of ['', 'Mars/Olympus', 'Not a zone', 'x'.repeat(100), 'Asia/\u212Aolkata', 'Factory', 'Asia/Kolkata ', 'EST5EDT/x']) {
    assert.equal(canonicalTimeZone(s), undefined, s);
    assert.equal(isTimeZone(s), false, s);
  }
});

test('canonicalTimeZone - every IANA name this ICU knows is its own spelling', () => {
  let known = 0;
  for (const name of IANA_ZONE_NAMES) {
    const c = canonicalTimeZone(name.toUpperCase());
    if (c !== undefined) {
      assert.equal(c, name);
      known++;
    }
  }
  // Node 20's ICU knows every name of the table (tzdata 2025b).
  assert.equal(known, IANA_ZONE_NAMES.length);
});

test('tzOffsetMs - refuses a spelling that is not IANA\'s (callers canonicalize first)', () => {
  assert.throws(() => tzOffsetMs('asia/kolkata', 0), RangeError);
});

test('100,000 distinct spellings of one zone grow the retained heap by less than 16 MiB', async () => {
  const script = new URL('./tz-heap.measure.ts', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', script], { maxBuffer: 1 << 20 });
  const m = JSON.parse(stdout) as { spellings: number; heapGrowthBytes: number; rssGrowthBytes: number };
  assert.equal(m.spellings, 100_000);
  assert.ok(m.heapGrowthBytes < 16 * 1024 * 1024, `retained heap grew by ${m.heapGrowthBytes} bytes`);
  // ICU's formatters live outside the V8 heap: before, 20,000 spellings grew RSS by ~550 MiB.
  assert.ok(m.rssGrowthBytes < 64 * 1024 * 1024, `RSS grew by ${m.rssGrowthBytes} bytes`);
});
