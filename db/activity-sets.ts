// The activity sets: exact distinct users per UTC hour and day (migration 0008,
// docs/distinct-users.md). Every user has a dense ordinal (users.ordinal); a set row keyed
// (bucket, source, type, funnel_stage) holds the sorted, distinct ordinals of the users with
// a stored event of that key in that bucket, and at the same position in `events` how many.
// Rule: a set row holds exactly those users and counts — the flush merges into it only the
// rows its INSERT really returned (db/flush.ts), a day's sets are built once from its hours
// (db/activity-days.ts), and an erasure removes the user's ordinal from every set of the
// user's lifetime (keyflow_erase_user, 0008) — so the number of distinct users of any union
// of whole buckets and keys is the number of distinct ordinals in their sets, and rows grow
// with buckets × keys, never with events.
/**
 * The SQL expression (a row of two arrays) that merges a set row `a` with the incoming row
 * `excluded` of an upsert: ordinals sorted and distinct, counts summed per ordinal.
 */
export const MERGE_SETS = `select array_agg(m.u order by m.u), array_agg(m.n order by m.u)
      from (select x.u, sum(x.n)::int4 as n from unnest(a.users || excluded.users, a.events || excluded.events) x(u, n) group by x.u) m`;
