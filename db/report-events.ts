// GET /v1/reports/events in the store: event counts over any window, filtered and grouped.
// Rule: whole days, hours and minutes come from rollups_day/hour/minute and only the
// sub-minute edges from `events` (db/report-sql.ts), so the cost grows with the buckets and
// groups touched, not the span; the counts equal a full scan of `events`.
import type { Sql } from './connect.ts';
import { compareNullable, coverOf, filterSql, inRanges, MAX_GROUPS_DEFAULT, type ReportWindow } from './report-sql.ts';

export type ReportGroupKey = 'type' | 'source' | 'funnelStage';

export type ReportEventsQuery = ReportWindow & {
  /** The dimensions to group by, in the order the groups compare on them. */
  readonly groupBy: readonly ReportGroupKey[];
  /** Most groups in the answer (the first ones in the answer's order); default MAX_GROUPS_DEFAULT. */
  readonly limit?: number;
};

export type ReportGroup = { type?: string; source?: string; funnelStage?: 'top' | 'bottom' | null; count: number };

/** `total` counts every matching event; `truncated` says more groups exist than `groups` holds. */
export type EventsReport = { total: number; groups: ReportGroup[]; truncated?: true };

const GROUP_COLUMN = { type: 'type', source: 'source', funnelStage: 'funnel_stage' } as const;
/** The answer's order of each dimension in SQL: code order, no stage ('') after the stages. */
const ORDER = { type: 'type collate "C"', source: 'source collate "C"', funnelStage: `nullif(funnel_stage, '') collate "C" nulls last` } as const;

/**
 * Count events in [from, to), optionally filtered, optionally grouped. Groups come sorted by
 * count (descending), then by their keys in groupBy order (ascending by UTF-16 code unit, a
 * null funnel stage after the stages); with an empty groupBy, `groups` is [].
 *
 * @example
 * await reportEvents(sql, { from, to, type: ['ad.click', 'ad.view'], groupBy: ['source'] });
 * // { total: 3, groups: [{ source: 'facebook', count: 2 }, { source: 'tiktok', count: 1 }] }
 */
export async function reportEvents(sql: Sql, q: ReportEventsQuery): Promise<EventsReport> {
  const cover = coverOf(q);
  const keys = [...new Set(q.groupBy)];
  const cols = keys.map((k) => GROUP_COLUMN[k]);
  const parts = [
    ...(['day', 'hour', 'minute'] as const)
      .filter((level) => cover[level].length > 0)
      .map((level) => sql`
        select type, source, funnel_stage, events as n from ${sql(`rollups_${level}`)}
        where (${inRanges(sql, 'bucket', cover[level])}) ${filterSql(sql, q)}`),
    ...(cover.raw.length > 0
      ? [sql`
        select type, source, coalesce(funnel_stage, '') as funnel_stage, 1::bigint as n from events
        where (${inRanges(sql, 'occurred_at', cover.raw)}) ${filterSql(sql, q)}`]
      : []),
  ];
  if (parts.length === 0) return { total: 0, groups: [] };
  const union = parts.reduce((acc, p) => sql`${acc} union all ${p}`);
  if (cols.length === 0) {
    const rows = await sql<{ count: string }[]>`select coalesce(sum(n), 0)::text as count from (${union}) parts`;
    return { total: Number(rows[0]?.count ?? 0), groups: [] };
  }
  // The first limit + 1 groups in the answer's order, picked by PostgreSQL: a window with a
  // million groups sends 1,001 rows, and the total still counts them all.
  const limit = q.limit ?? MAX_GROUPS_DEFAULT;
  const rows = await sql<Record<string, string>[]>`
    select ${sql(cols)}, sum(n)::text as count, (sum(sum(n)) over ())::text as total
    from (${union}) parts
    group by ${sql(cols)}
    order by sum(n) desc, ${sql.unsafe(keys.map((k) => ORDER[k]).join(', '))}
    limit ${limit + 1}`;

  const groups = rows.map((r) => {
    const g: ReportGroup = { count: Number(r['count']) };
    for (const k of keys) {
      const v = r[GROUP_COLUMN[k]] ?? '';
      if (k === 'funnelStage') g.funnelStage = v === '' ? null : (v as 'top' | 'bottom');
      else g[k] = v;
    }
    return g;
  });
  const total = Number(rows[0]?.['total'] ?? 0);
  const truncated = groups.length > limit;
  // PostgreSQL's "C" order is UTF-8 byte order; the answer's is UTF-16 code units (they differ
  // only between U+E000–U+FFFF and astral characters, which can only change which of equal
  // counts make the cut).
  groups.sort((a, b) => b.count - a.count || compareKeys(a, b, keys));
  if (truncated) groups.length = limit;
  return { total, groups, ...(truncated && { truncated: true as const }) };
}

function compareKeys(a: ReportGroup, b: ReportGroup, keys: readonly ReportGroupKey[]): number {
  for (const k of keys) {
    const c = compareNullable(a[k], b[k]);
    if (c !== 0) return c;
  }
  return 0;
}
