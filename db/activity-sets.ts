// The activity sets: exact distinct users per UTC hour and day (migration 0008,
// docs/distinct-users.md). Every user has a dense ordinal (users.ordinal); a set row keyed
// (bucket, source, type, funnel_stage) holds sorted, distinct ordinals of users with a stored
// event of that key in that bucket, and at the same position in `events` how many.
// Rule: the rows of one (bucket, key) hold together exactly those users and, summed per user,
// exactly those counts — the flush appends one fragment of only the rows its INSERT really
// returned (db/flush.ts), the compaction here replaces a bucket's fragments by their merge in
// one transaction, a day's sets are built once from its hours (db/activity-days.ts), and an
// erasure removes the user's ordinal from every set of the user's lifetime
// (keyflow_erase_user, 0008). So the distinct users of any union of buckets and keys are the
// distinct ordinals of their rows, and once compacted a bucket has one row per key, however
// many events it holds.
import type { Sql } from './connect.ts';
import { LOCK_ACTIVITY, LOCK_NAMESPACE } from './locks.ts';

const HOUR_MS = 3_600_000;

export type CompactSetsOptions = {
  /** Buckets that ended before this instant are merged. Default: the current time. */
  readonly now?: Date;
};

/**
 * Merge the fragments of every closed hour (and of every day, for late events stored after
 * its compaction) into one row per (bucket, key). Safe beside flushes (they only append: a
 * fragment committed after this statement's snapshot stays for the next run), erasures and
 * day compactions (one advisory lock, LOCK_ACTIVITY). Answers the rows merged away.
 *
 * @example
 * const merged = await compactActivitySets(sql);
 */
export async function compactActivitySets(sql: Sql, opts: CompactSetsOptions = {}): Promise<number> {
  const cutoff = Math.floor((opts.now ?? new Date()).getTime() / HOUR_MS) * HOUR_MS;
  let merged = 0;
  for (const table of ['activity_sets_hour', 'activity_sets_day'] as const) {
    merged += await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${LOCK_ACTIVITY}::int)`;
      // A day row's bucket is its midnight: only days over by the cutoff are merged.
      const end = table === 'activity_sets_hour' ? tx`x.bucket + interval '1 hour'` : tx`x.bucket + interval '1 day'`;
      const [r] = await tx<[{ n: number }]>`
        with keys as (
          select x.bucket, x.source, x.type, x.funnel_stage from ${tx(table)} x
          where ${end} <= ${new Date(cutoff)}
          group by 1, 2, 3, 4 having count(*) > 1
        ), gone as (
          delete from ${tx(table)} x using keys k
          where (x.bucket, x.source, x.type, x.funnel_stage) = (k.bucket, k.source, k.type, k.funnel_stage)
          returning x.bucket, x.source, x.type, x.funnel_stage, x.users, x.events
        ), put as (
          insert into ${tx(table)} (bucket, source, type, funnel_stage, users, events)
          select bucket, source, type, funnel_stage, array_agg(ordinal order by ordinal), array_agg(n order by ordinal)
          from (
            select g.bucket, g.source, g.type, g.funnel_stage, m.ordinal, sum(m.n)::int4 as n
            from gone g cross join lateral unnest(g.users, g.events) as m(ordinal, n)
            group by 1, 2, 3, 4, 5
          ) u
          group by 1, 2, 3, 4
          returning 1
        )
        select ((select count(*) from gone) - (select count(*) from put))::int as n`;
      return r.n;
    });
  }
  return merged;
}
