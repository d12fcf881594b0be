// The SQL pieces every report shares: which rows of which level answer a window, and the
// filters. Rule: a report reads each part of its window from exactly one level — whole UTC
// days from the day tables, whole hours from the hour tables, whole minutes from
// rollups_minute, and `events` only for the sub-minute (or sub-hour) edges that coverWindow
// leaves raw — so the rows it reads grow with the buckets and groups touched, never with the
// span, and every number equals what a full scan of `events` gives.
import type { PendingQuery, Row } from 'postgres';
import type { Sql } from './connect.ts';
import { coverWindow, type Cover, type Range } from './cover.ts';

/** The filters of DESIGN.md *Analytics*: each list matches any of its values. */
export type ReportFilters = {
  readonly source?: readonly string[];
  readonly type?: readonly string[];
  readonly funnelStage?: 'top' | 'bottom';
};

/** A window [from, to) with its filters. */
export type ReportWindow = ReportFilters & {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
};

type Fragment = PendingQuery<Row[]>;

/** Groups a report's answer holds when the query names no limit (DESIGN.md *Security*). */
export const MAX_GROUPS_DEFAULT = 1_000;
/** The most a query may ask for. */
export const MAX_GROUPS_LIMIT = 10_000;

/** `(col >= a and col < b) or …` over the ranges; false for none. */
export function inRanges(sql: Sql, column: string, ranges: readonly Range[]): Fragment {
  return ranges.reduce<Fragment>(
    (acc, r) => sql`${acc} or (${sql(column)} >= ${r.from} and ${sql(column)} < ${r.to})`,
    sql`false`,
  );
}

/**
 * `and …` for each filter given. The column names are the same in `events` and in every
 * rollup and activity table; a funnel stage is stored as itself in both ('' and NULL, the
 * absent stage, are never asked for by a filter).
 */
export function filterSql(sql: Sql, f: ReportFilters): Fragment {
  return sql`
    ${f.source !== undefined ? sql`and source = any(${sql.array([...f.source])}::text[])` : sql``}
    ${f.type !== undefined ? sql`and type = any(${sql.array([...f.type])}::text[])` : sql``}
    ${f.funnelStage !== undefined ? sql`and funnel_stage = ${f.funnelStage}` : sql``}`;
}

/**
 * `(select u.ordinal from users u where u.user_id = <column>)`: the ordinal of a raw edge's
 * event, as a scalar subquery — one primary-key probe per event, run after the window has
 * picked the events. A join let the planner hash the whole `users` table for the few thousand
 * events of the edges (470 of 530 ms of a 1m series at 1M users), and a lateral join let it
 * look up every event of the table before the window (70 s). Null only for an event without
 * a users row, which the flush and erasure never leave; callers drop nulls.
 */
export function ordinalOf(sql: Sql, column: string): Fragment {
  return sql`(select u.ordinal from users u where u.user_id = ${sql.unsafe(column)})`;
}

/** The parts of the window, per level; empty when from ≥ to. */
export function coverOf(w: ReportWindow, finest: 'minute' | 'hour' = 'minute'): Cover {
  return coverWindow(w.from.getTime(), w.to.getTime(), { finest });
}

/**
 * Strings ascending by UTF-16 code unit (the order of JavaScript's `<`, independent of any
 * collation), with null after every value.
 */
export function compareNullable(a: string | null | undefined, b: string | null | undefined): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
}
