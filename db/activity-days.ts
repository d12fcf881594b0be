// The user activity of whole days, built once per day from its hours (migration 0006).
// Rule: while a day is open (activity_days.compacted false) the flushes write only its
// activity_sets_hour rows and reports answer it from those 24 hours; compacting the day
// builds its activity_sets_day rows from them in one transaction that first takes the day's
// row lock — it waits for every flush holding FOR SHARE on that row, so every event stored
// for the day before the compaction is in the hours it reads, and every flush after it sees
// the day compacted and adds to both levels. The rows of the coming days are created ahead,
// so no flush creates the row of a day that is about to be compacted. An erasure and a
// compaction take LOCK_ACTIVITY, one after the other.
import type { Sql } from './connect.ts';
import { LOCK_ACTIVITY, LOCK_NAMESPACE } from './locks.ts';

const DAY_MS = 86_400_000;

export type CompactOptions = {
  /** Days after today (UTC) whose rows are created ahead. */
  readonly aheadDays: number;
  /** How long after its end a day stays open, so late events take the cheaper path. Default 5 minutes. */
  readonly graceMs?: number;
  /** Default: the current time. */
  readonly now?: Date;
  /** How long to wait for a day's row lock before leaving the day to the next run. Default 5000. */
  readonly lockTimeoutMs?: number;
};

export type CompactResult = {
  /** The days compacted (YYYY-MM-DD). */
  readonly compacted: string[];
  /** Days left to the next run, with why. */
  readonly deferred: string[];
};

/**
 * Create the rows of the days ahead and compact every open day that ended more than `graceMs`
 * ago, one transaction per day. Safe beside flushes, erasures and another compaction.
 *
 * @example
 * const { compacted } = await compactActivityDays(sql, { aheadDays: 7 });
 */
export async function compactActivityDays(sql: Sql, opts: CompactOptions): Promise<CompactResult> {
  const { aheadDays, graceMs = 5 * 60_000, now = new Date(), lockTimeoutMs = 5_000 } = opts;
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  await sql`
    insert into activity_days (day)
    select to_timestamp(d / 1000.0) from generate_series(${today}::int8, ${today + aheadDays * DAY_MS}::int8, ${DAY_MS}::int8) d
    on conflict do nothing`;
  const due = await sql<{ day: Date }[]>`
    select day from activity_days where not compacted and day <= ${new Date(now.getTime() - graceMs - DAY_MS)} order by day`;
  const compacted: string[] = [];
  const deferred: string[] = [];
  for (const { day } of due) {
    const name = day.toISOString().slice(0, 10);
    try {
      const done = await sql.begin(async (tx) => {
        await tx.unsafe(`set local lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
        await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${LOCK_ACTIVITY}::int)`;
        // Waits for the flushes holding the day's row; later ones wait for this commit.
        const marked = await tx`update activity_days set compacted = true where day = ${day} and not compacted`;
        if (marked.count === 0) return false;
        // A new statement, so a new snapshot: it sees every flush the UPDATE waited for.
        await tx`delete from activity_sets_day where bucket = ${day}`;
        await tx`
          insert into activity_sets_day (bucket, source, type, funnel_stage, users, events)
          select ${day}::timestamptz, source, type, funnel_stage, array_agg(ordinal order by ordinal), array_agg(n order by ordinal)
          from (
            select x.source, x.type, x.funnel_stage, m.ordinal, sum(m.n)::int4 as n
            from activity_sets_hour x cross join lateral unnest(x.users, x.events) as m(ordinal, n)
            where x.bucket >= ${day}::timestamptz and x.bucket < ${day}::timestamptz + interval '24 hours'
            group by 1, 2, 3, 4
          ) g
          group by source, type, funnel_stage
          order by source, type, funnel_stage`;
        return true;
      });
      if (done) compacted.push(name);
    } catch (e) {
      deferred.push(`compact the user activity of ${name}: ${(e as Error).message}`);
    }
  }
  return { compacted, deferred };
}

/**
 * The open (not yet compacted) days in [from, to), as UTC midnights in ms: reports answer
 * them from activity_sets_hour (db/cover.ts hoursForOpenDays).
 */
export async function openDays(sql: Sql, from: Date, to: Date): Promise<Set<number>> {
  if (!(from < to)) return new Set();
  const rows = await sql<{ day: Date }[]>`
    select day from activity_days where not compacted and day >= ${from} and day < ${to}`;
  return new Set(rows.map((r) => r.day.getTime()));
}
