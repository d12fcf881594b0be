// Bucket boundaries of a time series in an IANA time zone, with Intl only (Node 20 has no
// Temporal). Rule: a boundary is an instant where the bucket key changes, and nothing else —
// for 1m and 1h the key is (local wall time truncated to the unit, UTC offset), so a 1h bucket
// is one hour even across a fall-back (New York 2026-11-01 has 25 hourly buckets); for 1d the
// key is the local calendar date, so a DST day is one 23 h or 25 h bucket. Zones at +05:30 or
// +05:45 align to their own wall clock (a Kathmandu hour starts at hh:15 UTC). Offsets are read
// from Intl and transitions located by bisection, so the result is exact to the millisecond.

import { IANA_ZONE_NAMES } from './tz-names.ts';

/** The bucket sizes a time series offers. */
export type Interval = '1m' | '1h' | '1d';

const UNIT_MS: Readonly<Record<Interval, number>> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };

// Caches keyed by what a client sent must not grow with how many ways it can spell it: a
// zone name is first matched, case-insensitively, against the finite table of IANA names
// (db/tz-names.ts), and formatters and offset memos are keyed by the zone ICU resolves it to,
// so `asia/kolkata`, `ASIA/KOLKATA` and `Asia/Calcutta` share one entry.

/** Lower-case name → IANA spelling; built once, as many entries as IANA has names. */
let spellings: ReadonlyMap<string, string> | undefined;
/** IANA spelling → the zone ICU resolves it to (Asia/Kolkata → Asia/Calcutta). */
const zoneIds = new Map<string, string>();
/** One formatter per zone ICU resolves to. */
const formatters = new Map<string, Intl.DateTimeFormat>();

const ZONE_NAME = /^[A-Za-z0-9_+\-/]{1,64}$/;

function spellingTable(): ReadonlyMap<string, string> {
  if (spellings !== undefined) return spellings;
  const t = new Map<string, string>();
  // ICU's own list has only the names it holds canonical (Asia/Calcutta, not Asia/Kolkata, no
  // UTC): IANA's table comes first and is what a client's spelling is echoed as.
  for (const name of [...Intl.supportedValuesOf('timeZone'), ...IANA_ZONE_NAMES]) t.set(name.toLowerCase(), name);
  return (spellings = t);
}

/**
 * The IANA spelling of a time zone name given in any letter case, or undefined when IANA has
 * no such name (or this Node's ICU does not know it). Never ICU's alias: `asia/kolkata` is
 * `Asia/Kolkata`, `asia/calcutta` is `Asia/Calcutta`.
 *
 * @example
 * canonicalTimeZone('america/argentina/buenos_AIRES'); // 'America/Argentina/Buenos_Aires'
 * canonicalTimeZone('Mars/Olympus'); // undefined
 */
export function canonicalTimeZone(input: string): string | undefined {
  if (!ZONE_NAME.test(input)) return undefined;
  const name = spellingTable().get(input.toLowerCase());
  if (name === undefined) return undefined;
  try {
    formatter(name);
    return name;
  } catch {
    return undefined;
  }
}

/** Whether `tz` names an IANA zone in any letter case (e.g. "Asia/Kolkata", "utc"). */
export function isTimeZone(tz: string): boolean {
  return canonicalTimeZone(tz) !== undefined;
}

/** The zone ICU resolves an IANA name to; throws RangeError for a name outside the table. */
function zoneId(tz: string): string {
  let id = zoneIds.get(tz);
  if (id !== undefined) return id;
  if (spellingTable().get(tz.toLowerCase()) !== tz) throw new RangeError(`not an IANA time zone name: ${tz.slice(0, 64)}`);
  const f = newFormatter(tz);
  id = f.resolvedOptions().timeZone;
  if (!formatters.has(id)) formatters.set(id, f);
  zoneIds.set(tz, id);
  return id;
}

function formatter(tz: string): Intl.DateTimeFormat {
  return formatters.get(zoneId(tz))!;
}

function newFormatter(tz: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
}

/**
 * The zone's UTC offset at instant `ms`, in milliseconds (local wall time = ms + offset).
 *
 * @example
 * tzOffsetMs('Asia/Kathmandu', Date.parse('2026-01-01T00:00:00Z')); // 20_700_000 (+05:45)
 */
export function tzOffsetMs(tz: string, ms: number): number {
  if (tz === 'UTC') return 0;
  const id = zoneId(tz);
  // The bucket walk asks the same instants several times: remember the last answers, at most
  // MEMO_ENTRIES over every zone (a 10,000-point walk asks about 40,000 instants).
  let memo = memos.get(id);
  if (memo === undefined) memos.set(id, (memo = new Map()));
  const hit = memo.get(ms);
  if (hit !== undefined) return hit;
  if (memoEntries >= MEMO_ENTRIES) {
    memos.clear();
    memos.set(id, (memo = new Map()));
    memoEntries = 0;
  }
  const off = offsetFromIntl(tz, ms);
  memo.set(ms, off);
  memoEntries++;
  return off;
}

const MEMO_ENTRIES = 100_000;
const memos = new Map<string, Map<number, number>>();
let memoEntries = 0;

// en-US with these options prints "12/31/1969 AD, 19:00:00"; format() is about twice as fast
// as formatToParts(), and this walk calls it a few times per bucket.
const PRINTED = /^(\d+)\/(\d+)\/(\d+) (AD|BC), (\d+):(\d+):(\d+)$/;

function offsetFromIntl(tz: string, ms: number): number {
  const m = PRINTED.exec(formatter(tz).format(new Date(ms)));
  if (m === null) return offsetFromParts(tz, ms);
  const y = Number(m[3]);
  return wallToUtc(m[4] === 'BC' ? 1 - y : y, Number(m[1]), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])) - Math.floor(ms / 1000) * 1000;
}

// The same through formatToParts, should an ICU print another layout.
function offsetFromParts(tz: string, ms: number): number {
  const p: Record<string, string> = {};
  for (const part of formatter(tz).formatToParts(new Date(ms))) p[part.type] = part.value;
  const y = Number(p['year']);
  const year = p['era'] === 'BC' || p['era'] === 'B' ? 1 - y : y;
  return wallToUtc(year, Number(p['month']), Number(p['day']), Number(p['hour']), Number(p['minute']), Number(p['second'])) - Math.floor(ms / 1000) * 1000;
}

function wallToUtc(year: number, month: number, day: number, h: number, min: number, sec: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(h, min, sec, 0);
  return d.getTime(); // Intl prints whole seconds: compared with the instant floored to one
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** The bucket key of an instant: see the rule in the header. */
function keyOf(tz: string, interval: Interval, ms: number): string {
  const off = tzOffsetMs(tz, ms);
  const unit = UNIT_MS[interval];
  const wall = ms + off;
  const trunc = wall - mod(wall, unit);
  return interval === '1d' ? String(trunc) : `${trunc}/${off}`;
}

/** The first instant in (lo, hi] whose offset differs from the offset at lo (one transition assumed). */
function transitionIn(tz: string, lo: number, hi: number): number {
  const o = tzOffsetMs(tz, lo);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (tzOffsetMs(tz, mid) === o) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * The start of the bucket that holds instant `ms`.
 *
 * @example
 * bucketStart('America/New_York', '1d', Date.parse('2026-03-08T12:00:00Z')); // 2026-03-08T05:00:00Z
 */
export function bucketStart(tz: string, interval: Interval, ms: number): number {
  const unit = UNIT_MS[interval];
  const k = keyOf(tz, interval, ms);
  let cur = ms;
  for (;;) {
    const o = tzOffsetMs(tz, cur);
    const cand = cur - mod(cur + o, unit);
    if (tzOffsetMs(tz, cand) !== o) {
      // The offset changed in (cand, cur]: the bucket starts there unless the key carries over.
      const y = transitionIn(tz, cand, cur);
      if (keyOf(tz, interval, y - 1) !== k) return y;
      cur = y - 1;
      continue;
    }
    if (keyOf(tz, interval, cand - 1) !== k) return cand;
    cur = cand - 1;
  }
}

/** The start of the bucket after the one that starts at (or holds) `ms`. */
export function nextBucketStart(tz: string, interval: Interval, ms: number): number {
  const unit = UNIT_MS[interval];
  const k = keyOf(tz, interval, ms);
  let cur = ms;
  for (;;) {
    const o = tzOffsetMs(tz, cur);
    const cand = cur + (unit - mod(cur + o, unit));
    if (tzOffsetMs(tz, cand - 1) !== o) {
      const x = transitionIn(tz, cur, cand - 1);
      if (keyOf(tz, interval, x) !== k) return x;
      cur = x;
      continue;
    }
    if (keyOf(tz, interval, cand) !== k) return cand;
    cur = cand;
  }
}

/** One bucket of a series: its start `t` and the part of it inside the window. */
export type BucketPart = { readonly t: number; readonly from: number; readonly to: number };

/** Thrown when a window holds more buckets than allowed. */
export class TooManyBucketsError extends Error {
  constructor(readonly max: number) {
    super(`the window holds more than ${max} buckets`);
    this.name = 'TooManyBucketsError';
  }
}

/**
 * Every bucket that meets [fromMs, toMs), in order, each with its part inside the window (the
 * first and last are clipped). Throws TooManyBucketsError past `max` buckets, without
 * walking a window that is obviously too long.
 *
 * @example
 * seriesBuckets('UTC', '1h', Date.parse('2026-01-01T00:30:00Z'), Date.parse('2026-01-01T02:00:00Z'), 10_000);
 * // [{ t: 00:00, from: 00:30, to: 01:00 }, { t: 01:00, from: 01:00, to: 02:00 }]
 */
export function seriesBuckets(tz: string, interval: Interval, fromMs: number, toMs: number, max: number): BucketPart[] {
  const unit = UNIT_MS[interval];
  // No bucket is shorter than half its unit outside exotic zone history; a day is ≥ 22 h.
  if ((toMs - fromMs) / unit > max * 1.1 + 2) throw new TooManyBucketsError(max);
  const out: BucketPart[] = [];
  let t = bucketStart(tz, interval, fromMs);
  while (t < toMs) {
    if (out.length === max) throw new TooManyBucketsError(max);
    const next = nextBucketStart(tz, interval, t);
    out.push({ t, from: Math.max(t, fromMs), to: Math.min(next, toMs) });
    t = next;
  }
  return out;
}

/**
 * An instant as RFC 3339 with the zone's offset at that instant (`Z` for UTC), milliseconds
 * kept: 2026-03-08T00:00:00.000-05:00.
 */
export function formatInZone(tz: string, ms: number): string {
  const off = tzOffsetMs(tz, ms);
  if (off === 0 && tz === 'UTC') return new Date(ms).toISOString();
  const local = new Date(ms + off).toISOString().slice(0, -1); // wall time, no Z
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 3_600_000)).padStart(2, '0');
  const mm = String(Math.floor((abs % 3_600_000) / 60_000)).padStart(2, '0');
  const ss = Math.floor((abs % 60_000) / 1000);
  // RFC 3339 offsets have no seconds: historic local-mean-time offsets (before ~1900) with
  // seconds are printed in UTC instead, which names the same instant.
  // Local years outside 0000..9999 have no 4-digit form either.
  if (ss !== 0 || !/^\d{4}-/.test(local)) return new Date(ms).toISOString();
  return `${local}${sign}${hh}:${mm}`;
}
