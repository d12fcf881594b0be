// Reads the live summary from Redis. Rule: only Redis, never PostgreSQL, and only closed
// minutes for the counts (a closed minute is what the reconciler keeps exact):
// - eventsLastMinute: events whose occurredAt is in [floor(at) − 1 min, floor(at));
// - eventsPerSecond: eventsLastMinute / 60;
// - activeUsers[w]: distinct userIds with a stored event whose occurredAt ≥ at − w
//   and ≤ at: nothing after `at` counts (an event stamped ahead, from a skewed clock, waits in
//   live:ahead until the reconciler sees its time come);
// - topTypes: events per type over the last 5 closed minutes, events desc then type asc,
//   the first TOP_TYPES of them.
import type { Redis } from 'ioredis';
import type { LiveSummary } from '../../http/index.ts';
import { MINUTE_MS, liveKeys, minuteOf } from './keys.ts';

/** Most types topTypes lists. */
export const TOP_TYPES = 10;
const WINDOWS = { '1m': MINUTE_MS, '5m': 5 * MINUTE_MS, '30m': 30 * MINUTE_MS } as const;

/**
 * The summary as of `nowMs`, in one round trip.
 *
 * @example
 * const s = await readSummary(redis, 'keyflow:', Date.now()); // { at, eventsLastMinute, … }
 */
export async function readSummary(redis: Redis, prefix: string, nowMs: number): Promise<LiveSummary> {
  const k = liveKeys(prefix);
  const last = minuteOf(nowMs) - MINUTE_MS;
  const p = redis.pipeline().get(k.minute(last).total);
  for (let i = 0; i < 5; i++) p.hgetall(k.minute(last - i * MINUTE_MS).types);
  for (const w of Object.values(WINDOWS)) p.zcount(k.active, nowMs - w, nowMs);
  const results = (await p.exec()) ?? [];
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
  const values = results.map(([, v]) => v);
  const eventsLastMinute = Number((values[0] as string | null) ?? 0);
  const perType = new Map<string, number>();
  for (const h of values.slice(1, 6) as Record<string, string>[]) {
    for (const [type, n] of Object.entries(h)) perType.set(type, (perType.get(type) ?? 0) + Number(n));
  }
  const topTypes = [...perType]
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_TYPES)
    .map(([type, events]) => ({ type, events }));
  const [u1, u5, u30] = values.slice(6, 9).map(Number) as [number, number, number];
  return {
    at: new Date(nowMs).toISOString(),
    eventsLastMinute,
    eventsPerSecond: eventsLastMinute / 60,
    activeUsers: { '1m': u1, '5m': u5, '30m': u30 },
    topTypes,
  };
}
