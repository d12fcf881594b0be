// Reads the live summary from Redis. Rule: only Redis, never PostgreSQL; the summary is taken
// at `at`, the last millisecond of the last whole second (S − 1 ms, S = the current second's
// start), so that every window (at − w, at] is exactly the whole seconds [S − w, S):
// - eventsLastMinute: events whose occurredAt is in (at − 60 s, at];
// - eventsPerSecond: the events of (at − 10 s, at] / 10;
// - topTypes: events per type in (at − 5 min, at], events desc then type asc, the first
//   TOP_TYPES of them;
// - activeUsers[w]: distinct userIds with a stored event whose newest occurredAt is in
//   (at − w, at]: nothing after `at` counts (an event stamped ahead, from a skewed clock, waits
//   in live:ahead until the reconciler sees its time come).
// A window is read as the closed minutes it covers whole (live:<minute>:*, kept exact by the
// reconciler) plus the seconds of the minutes it covers in part (live:s:<second>:*, written by
// every flush and checked against the store by the reconciler), so the current minute counts
// as soon as the flush that stored an event has updated Redis.
import type { Redis } from 'ioredis';
import type { LiveSummary } from '../../http/index.ts';
import { MINUTE_MS, SECOND_MS, liveKeys, secondOf } from './keys.ts';

/** Most types topTypes lists. */
export const TOP_TYPES = 10;
const WINDOWS = { '1m': MINUTE_MS, '5m': 5 * MINUTE_MS, '30m': 30 * MINUTE_MS } as const;
const RATE_WINDOW_MS = 10 * SECOND_MS;

/** A piece of a window: a whole closed minute or one second. */
type Piece = { readonly kind: 'minute' | 'second'; readonly start: number };

/** The whole minutes and the seconds that make up [from, to) (both whole seconds). */
export function windowPieces(from: number, to: number): Piece[] {
  const out: Piece[] = [];
  for (let x = from; x < to; ) {
    if (x % MINUTE_MS === 0 && x + MINUTE_MS <= to) {
      out.push({ kind: 'minute', start: x });
      x += MINUTE_MS;
    } else {
      out.push({ kind: 'second', start: x });
      x += SECOND_MS;
    }
  }
  return out;
}

/** The instant a summary read at `nowMs` is taken at: the last millisecond of the last whole second. */
export const summaryAt = (nowMs: number): number => secondOf(nowMs) - 1;

/**
 * The summary as of `nowMs` (taken at summaryAt(nowMs)), in one round trip.
 *
 * @example
 * const s = await readSummary(redis, 'keyflow:', Date.now()); // { at, eventsLastMinute, … }
 */
export async function readSummary(redis: Redis, prefix: string, nowMs: number): Promise<LiveSummary> {
  const k = liveKeys(prefix);
  const at = summaryAt(nowMs);
  const end = at + 1;
  const keyOf = (p: Piece) => (p.kind === 'minute' ? k.minute(p.start) : k.second(p.start));
  const lastMinute = windowPieces(end - MINUTE_MS, end).map(keyOf);
  const lastSeconds = windowPieces(end - RATE_WINDOW_MS, end).map(keyOf);
  const lastFive = windowPieces(end - 5 * MINUTE_MS, end).map(keyOf);
  const totals = [...new Set([...lastMinute, ...lastSeconds].map((x) => x.total))];
  const p = redis.pipeline();
  for (const key of totals) p.get(key);
  for (const x of lastFive) p.hgetall(x.types);
  for (const w of Object.values(WINDOWS)) p.zcount(k.active, `(${at - w}`, at);
  const results = (await p.exec()) ?? [];
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
  const values = results.map(([, v]) => v);
  const total = new Map(totals.map((key, i) => [key, Number((values[i] as string | null) ?? 0)]));
  const sum = (keys: readonly { total: string }[]) => keys.reduce((n, x) => n + (total.get(x.total) ?? 0), 0);
  const eventsLastMinute = sum(lastMinute);
  const perType = new Map<string, number>();
  for (const h of values.slice(totals.length, totals.length + lastFive.length) as Record<string, string>[]) {
    for (const [type, n] of Object.entries(h)) perType.set(type, (perType.get(type) ?? 0) + Number(n));
  }
  const topTypes = [...perType]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_TYPES)
    .map(([type, events]) => ({ type, events }));
  const [u1, u5, u30] = values.slice(totals.length + lastFive.length).map(Number) as [number, number, number];
  return {
    at: new Date(at).toISOString(),
    eventsLastMinute,
    eventsPerSecond: sum(lastSeconds) / (RATE_WINDOW_MS / SECOND_MS),
    activeUsers: { '1m': u1, '5m': u5, '30m': u30 },
    topTypes,
  };
}
