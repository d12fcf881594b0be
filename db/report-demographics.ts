// GET /v1/reports/demographics in the store: distinct users and their events, grouped by the
// users' current profile values.
// Rule: the users counted are exactly the distinct user_ids with a matching event in
// [from, to): whole UTC days from activity_sets_day, whole hours from activity_sets_hour
// (one row per bucket, source, type and stage holding its users' ordinals and event counts,
// db/activity-sets.ts), and only the sub-hour edges from `events` — so no long window scans
// its events. Each such user is
// counted once, in the group of the value the `users` row holds now (the newest occurredAt
// that carried the field), and brings the number of its matching events in the window.
import type { Sql } from './connect.ts';
import { openDays } from './activity-days.ts';
import { hoursForOpenDays } from './cover.ts';
import { compareNullable, coverOf, ordinalOf, filterSql, inRanges, MAX_GROUPS_DEFAULT, type ReportWindow } from './report-sql.ts';

export type DemographicDimension = 'gender' | 'country' | 'city' | 'age';

export type ReportDemographicsQuery = ReportWindow & {
  readonly by: DemographicDimension;
  /** Most groups in the answer (the first ones in the answer's order); default 1,000. */
  readonly limit?: number;
};

/** One value of the dimension (null: users without the field), its users and their events. */
export type DemographicGroup = { value: string | null; users: number; events: number };

/** `users` and `events` count every group; `truncated` says more groups exist than `groups` holds. */
export type DemographicsReport = { users: number; events: number; groups: DemographicGroup[]; truncated?: true };

/** The age buckets of DESIGN.md, in age order (the order groups with equal users take). */
export const AGE_BUCKETS = ['<18', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;

const VALUE = {
  gender: 'u.gender',
  country: 'u.country',
  city: 'u.city',
  age: `case when u.age is null then null when u.age < 18 then '<18' when u.age < 25 then '18-24'
    when u.age < 35 then '25-34' when u.age < 45 then '35-44' when u.age < 55 then '45-54'
    when u.age < 65 then '55-64' else '65+' end`,
} as const;

/** The answer's order of values in SQL: age buckets in age order, others by code; unknown last. */
const ORDER: Readonly<Record<DemographicDimension, string>> = {
  gender: 'u.gender collate "C" nulls last',
  country: 'u.country collate "C" nulls last',
  city: 'u.city collate "C" nulls last',
  age: `array_position(array[${AGE_BUCKETS.map((b) => `'${b}'`).join(', ')}]::text[], ${VALUE.age}) nulls last`,
};

/**
 * Users and events per value of `by` in [from, to). Groups come sorted by users (descending),
 * then by value — age buckets in age order, other values ascending by UTF-16 code unit — with
 * `null` (unknown) after every value.
 *
 * @example
 * await reportDemographics(sql, { from, to, by: 'age' });
 * // { users: 3, events: 7, groups: [{ value: '25-34', users: 2, events: 5 }, { value: null, users: 1, events: 2 }] }
 */
export async function reportDemographics(sql: Sql, q: ReportDemographicsQuery): Promise<DemographicsReport> {
  const limit = q.limit ?? MAX_GROUPS_DEFAULT;
  // All time from the users rows, when they can answer it: nothing below is read.
  const whole = await wholeLifetimes(sql, q, limit);
  if (whole !== undefined) return answer(q, whole, limit);
  // A day not compacted yet has its activity in its hours only (db/activity-days.ts).
  const cover = hoursForOpenDays(coverOf(q, 'hour'), await openDays(sql, q.from, q.to));
  const parts = [
    ...(['day', 'hour'] as const)
      .filter((level) => cover[level].length > 0)
      .map((level) => sql`
        select m.ordinal, m.n::bigint as n from ${sql(`activity_sets_${level}`)}
        cross join lateral unnest(users, events) as m(ordinal, n)
        where (${inRanges(sql, 'bucket', cover[level])}) ${filterSql(sql, q)}`),
    ...(cover.raw.length > 0
      ? [sql`
        select ${ordinalOf(sql, 'e.user_id')} as ordinal, 1::bigint as n from events e
        where (${inRanges(sql, 'occurred_at', cover.raw)}) ${filterSql(sql, q)}`]
      : []),
  ];
  if (parts.length === 0) return { users: 0, events: 0, groups: [] };
  const union = parts.reduce((acc, p) => sql`${acc} union all ${p}`);
  // The per-user aggregate hashes in the read pool's work_mem (KEYFLOW_READ_WORK_MEM_MB, set
  // per connection: no transaction needed); below it, it spills to disk (bench/RESULTS.md).
  // PostgreSQL estimates the aggregate at 200 users (it cannot see into the arrays), so it
  // would look each one up in users by index: right for an hour's few thousand, 4.6 s for all
  // time's million at 10M events. A window with a whole day in it (~100,000 users in the bench)
  // joins by hash instead (`+ 0` hides the index): one scan of users, ~0.5 s.
  // PostgreSQL sends the first limit + 1 groups in the answer's order (a million cities send
  // 1,001 rows); the totals still count every group.
  const rows = await sql<GroupRow[]>`
    with active as (
      select ordinal, sum(n) as n from (${union}) parts where ordinal is not null group by ordinal
    )
    select ${sql.unsafe(VALUE[q.by])} as value, count(*)::text as users, sum(a.n)::text as events,
      (sum(count(*)) over ())::text as all_users, (sum(sum(a.n)) over ())::text as all_events
    from active a left join users u on ${cover.day.length > 0 ? sql`u.ordinal + 0` : sql`u.ordinal`} = a.ordinal
    group by 1
    order by count(*) desc, ${sql.unsafe(ORDER[q.by])}
    limit ${limit + 1}`;
  return answer(q, rows, limit);
}

/** The oldest bucket either set table still holds (retention drops both from the oldest up). */
const OLDEST_SET_BUCKET = 'select least((select min(bucket) from activity_sets_day), (select min(bucket) from activity_sets_hour)) as f';

type GroupRow = { value: string | null; users: string; events: string; all_users: string; all_events: string };

/**
 * The answer from the users rows alone, when every user's whole stored life lies in the window
 * and nothing is filtered — "all time" in a store whose retention has not dropped any of its
 * users' events — else undefined (the sets are read).
 * Rule: `users.events` is the number of the user's stored events (the flush adds what its
 * INSERT returned, erasure deletes the row), and the sets hold every one of them unless the
 * rollup retention dropped the buckets of the user's first events. Retention drops whole
 * buckets below a cutoff, oldest first, in both set tables; so a user whose `first_seen` is at
 * or after the oldest set bucket still held has all of its events in the sets, and a window
 * holding [first_seen, last_seen] holds them all. If every user is such a user and the window
 * holds them all, each user's events in the window are `users.events`, exactly what the sets
 * would sum — read from ~1M rows instead of ~10M set members at 10M events (bench/RESULTS.md).
 * One statement: the check and the answer see one snapshot.
 */
export async function wholeLifetimes(sql: Sql, q: ReportDemographicsQuery, limit: number): Promise<GroupRow[] | undefined> {
  if (q.source !== undefined || q.type !== undefined || q.funnelStage !== undefined) return undefined;
  // Most windows start after the oldest set bucket: two index lookups say so, and the
  // statement below (whose plan starts parallel workers) is not sent at all.
  const [fl] = await sql.unsafe<[{ f: Date | null }]>(OLDEST_SET_BUCKET);
  if (fl.f === null || fl.f.getTime() < q.from.getTime()) return undefined;
  const rows = await sql<(Partial<GroupRow> & { whole: boolean })[]>`
    with floor as (${sql.unsafe(OLDEST_SET_BUCKET)}), ok as (
      -- Checked again in this statement, so that the check and the answer share one snapshot.
      select case when fl.f is null or fl.f < ${q.from} then false
        else (select coalesce(min(first_seen) >= fl.f and max(last_seen) < ${q.to}, true) from users) end as whole
      from floor fl
    ), g as (
      select ${sql.unsafe(VALUE[q.by])} as value, count(*)::text as users, sum(u.events)::text as events,
        (sum(count(*)) over ())::text as all_users, (sum(sum(u.events)) over ())::text as all_events
      from users u where (select whole from ok)
      group by 1
      order by count(*) desc, ${sql.unsafe(ORDER[q.by])}
      limit ${limit + 1}
    )
    select ok.whole, g.* from ok left join g on true`;
  if (rows[0]?.whole !== true) return undefined;
  return rows.filter((r): r is GroupRow & { whole: boolean } => r.users !== null && r.users !== undefined);
}

function answer(q: ReportDemographicsQuery, rows: readonly GroupRow[], limit: number): DemographicsReport {
  const groups = rows.map((r) => ({ value: r.value, users: Number(r.users), events: Number(r.events) }));
  const rank = (v: string | null): number => (AGE_BUCKETS as readonly (string | null)[]).indexOf(v);
  groups.sort(
    (a, b) =>
      b.users - a.users ||
      (q.by === 'age' && a.value !== null && b.value !== null ? rank(a.value) - rank(b.value) : compareNullable(a.value, b.value)),
  );
  const truncated = groups.length > limit;
  if (truncated) groups.length = limit;
  return {
    users: Number(rows[0]?.all_users ?? 0),
    events: Number(rows[0]?.all_events ?? 0),
    groups,
    ...(truncated && { truncated: true as const }),
  };
}
