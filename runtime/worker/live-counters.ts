// Live per-minute counters in Redis, updated after each flush from the events it really
// inserted. Rule: Redis is a view, never a source of truth — when it is down, ingestion goes
// on and the failure is counted; the counters resume with the next flush that reaches it.
import type { Redis } from 'ioredis';
import { liveDeltas, type KeyflowEvent } from '../../actors/index.ts';

/** Seconds a minute's counters are kept. */
export const LIVE_TTL_SECONDS = 2 * 60 * 60;

/** Redis keys of one minute's live counters. */
export function liveKeys(prefix: string, minute: number) {
  const base = `${prefix}live:${minute}`;
  return { total: `${base}:total`, types: `${base}:types`, users: `${base}:users`, revenue: `${base}:revenue` };
}

/** Add the inserted events to the live counters, in one pipeline. */
export async function publishLiveCounters(redis: Redis, prefix: string, inserted: readonly KeyflowEvent[]): Promise<void> {
  if (inserted.length === 0) return;
  const p = redis.pipeline();
  for (const d of liveDeltas(inserted)) {
    const k = liveKeys(prefix, d.minute);
    p.incrby(k.total, d.total).expire(k.total, LIVE_TTL_SECONDS);
    for (const [type, n] of d.byType) p.hincrby(k.types, type, n);
    p.expire(k.types, LIVE_TTL_SECONDS);
    if (d.users.size > 0) p.pfadd(k.users, ...d.users).expire(k.users, LIVE_TTL_SECONDS);
    if (d.revenueByCurrency.size > 0) {
      for (const [currency, amount] of d.revenueByCurrency) p.hincrbyfloat(k.revenue, currency, amount);
      p.expire(k.revenue, LIVE_TTL_SECONDS);
    }
  }
  const results = await p.exec();
  const failed = results?.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
}
