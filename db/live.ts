// What the live view in Redis must equal, read from the store. Rule: these are the only
// queries behind the live view, they run in the reconciler (never on a request), and each is
// one cheap indexed range scan — the minute rollups' primary key for the counts, the
// events_time index for the active users.
import type { Sql } from './connect.ts';

/** One closed minute's counts as the store has them. */
export type LiveMinuteCounts = {
  /** Epoch ms of the minute's start. */
  readonly minute: number;
  readonly total: number;
  /** Events per type in that minute. */
  readonly types: ReadonlyMap<string, number>;
};

/**
 * Per-minute totals and per-type counts of every minute in `[fromMs, toMs)` that holds
 * events (absent minutes hold none), from `rollups_minute`.
 *
 * @example
 * const minutes = await liveMinuteCounts(sql, Date.now() - 30 * 60_000, Date.now());
 */
export async function liveMinuteCounts(sql: Sql, fromMs: number, toMs: number): Promise<LiveMinuteCounts[]> {
  const rows = await sql<{ bucket: Date; type: string; events: string }[]>`
    select bucket, type, sum(events)::text as events
    from rollups_minute
    where bucket >= ${new Date(fromMs)} and bucket < ${new Date(toMs)}
    group by bucket, type
    order by bucket, type`;
  const byMinute = new Map<number, { minute: number; total: number; types: Map<string, number> }>();
  for (const r of rows) {
    const minute = r.bucket.getTime();
    let m = byMinute.get(minute);
    if (m === undefined) byMinute.set(minute, (m = { minute, total: 0, types: new Map() }));
    const n = Number(r.events);
    if (n === 0) continue;
    m.total += n;
    m.types.set(r.type, n);
  }
  return [...byMinute.values()].filter((m) => m.total > 0);
}

/**
 * Each user with a stored event that occurred in `[sinceMs, untilMs]`, with the newest such
 * `occurredAt` (epoch ms). Events after `untilMs` (the clock: nothing ahead of it is live) are
 * left out, however far ahead a store of an earlier version holds them.
 *
 * @example
 * const users = await usersActiveSince(sql, Date.now() - 30 * 60_000, Date.now()); // [{ userId, newestMs }]
 */
export async function usersActiveSince(sql: Sql, sinceMs: number, untilMs: number): Promise<{ userId: string; newestMs: number }[]> {
  const rows = await sql<{ user_id: string; newest: Date }[]>`
    select user_id, max(occurred_at) as newest
    from events
    where occurred_at >= ${new Date(sinceMs)} and occurred_at <= ${new Date(untilMs)} and user_id is not null
    group by user_id`;
  return rows.map((r) => ({ userId: r.user_id, newestMs: r.newest.getTime() }));
}

/**
 * Each distinct (user, occurredAt) of the stored events in `(afterMs, untilMs]`: the events
 * ahead of the clock that become live when their time comes.
 *
 * @example
 * const ahead = await usersAhead(sql, Date.now(), Date.now() + 86_400_000); // [{ userId, ms }]
 */
export async function usersAhead(sql: Sql, afterMs: number, untilMs: number): Promise<{ userId: string; ms: number }[]> {
  const rows = await sql<{ user_id: string; occurred_at: Date }[]>`
    select distinct user_id, occurred_at
    from events
    where occurred_at > ${new Date(afterMs)} and occurred_at <= ${new Date(untilMs)} and user_id is not null`;
  return rows.map((r) => ({ userId: r.user_id, ms: r.occurred_at.getTime() }));
}

/** One second's counts as the store has them. */
export type LiveSecondCounts = {
  /** Epoch ms of the second's start. */
  readonly second: number;
  readonly total: number;
  /** Events per type in that second. */
  readonly types: ReadonlyMap<string, number>;
};

/**
 * Per-second totals and per-type counts of every second in `[fromMs, toMs)` that holds
 * events, from `events` (the seconds the live summary reads at the edges of its windows; a
 * range scan of the events_time index over a few minutes).
 *
 * @example
 * const seconds = await liveSecondCounts(sql, minute, minute + 60_000); // [{ second, total, types }]
 */
export async function liveSecondCounts(sql: Sql, fromMs: number, toMs: number): Promise<LiveSecondCounts[]> {
  const rows = await sql<{ second: Date; type: string; events: number }[]>`
    select date_trunc('second', occurred_at) as second, type, count(*)::int as events
    from events
    where occurred_at >= ${new Date(fromMs)} and occurred_at < ${new Date(toMs)}
    group by 1, 2
    order by 1, 2`;
  const bySecond = new Map<number, { second: number; total: number; types: Map<string, number> }>();
  for (const r of rows) {
    const second = r.second.getTime();
    let s = bySecond.get(second);
    if (s === undefined) bySecond.set(second, (s = { second, total: 0, types: new Map() }));
    s.total += r.events;
    s.types.set(r.type, r.events);
  }
  return [...bySecond.values()];
}
