// GET /v1/reports/revenue in the store: exact revenue per currency over any window.
// Rule: sums are PostgreSQL numeric sums (never a float), read from the same levels as the
// events report (whole days/hours/minutes from the rollups, sub-minute edges from `events`),
// and printed in one canonical form (normalizeDecimal), so the same amount always reads the
// same; refunds are negative amounts and subtract.
import type { Sql } from './connect.ts';
import { compareNullable, coverOf, filterSql, inRanges, MAX_GROUPS_DEFAULT, type ReportWindow } from './report-sql.ts';

export type RevenueGroupKey = 'source' | 'type';

export type ReportRevenueQuery = ReportWindow & {
  /** Per currency, also split by these dimensions (compared in this order). */
  readonly groupBy: readonly RevenueGroupKey[];
  /** Most groups per currency (the first ones in the answer's order); default 1,000. */
  readonly limit?: number;
};

/** A decimal string: `-`?digits, then `.` and digits without a trailing zero; "0" for zero. */
export type Decimal = string;

export type RevenueGroup = { source?: string; type?: string; revenue: Decimal; events: number };

export type CurrencyRevenue = {
  /** ISO 4217, upper case. */
  currency: string;
  revenue: Decimal;
  /** How many events carried revenue in this currency. */
  events: number;
  /** Present when the query had a groupBy. */
  groups?: RevenueGroup[];
  /** Present when this currency has more groups than `groups` holds. */
  truncated?: true;
};

/** `truncated`: some currency has more groups than the answer holds. */
export type RevenueReport = { currencies: CurrencyRevenue[]; truncated?: true };

/**
 * Revenue per currency in [from, to), filtered, optionally split by source and/or type.
 * Currencies come in code order; groups by events (descending), then by their keys in
 * groupBy order (ascending by UTF-16 code unit).
 *
 * @example
 * await reportRevenue(sql, { from, to, groupBy: ['source'] });
 * // { currencies: [{ currency: 'USD', revenue: '19.99', events: 2, groups: [{ source: 'web', revenue: '19.99', events: 2 }] }] }
 */
export async function reportRevenue(sql: Sql, q: ReportRevenueQuery): Promise<RevenueReport> {
  const cover = coverOf(q);
  const keys = [...new Set(q.groupBy)];
  const parts = [
    ...(['day', 'hour', 'minute'] as const)
      .filter((level) => cover[level].length > 0)
      .map((level) => sql`
        select currency, source, type, events as n, revenue from ${sql(`rollups_${level}`)}
        where currency <> '' and (${inRanges(sql, 'bucket', cover[level])}) ${filterSql(sql, q)}`),
    ...(cover.raw.length > 0
      ? [sql`
        select revenue_currency as currency, source, type, 1::bigint as n, revenue_amount as revenue from events
        where revenue_currency is not null and (${inRanges(sql, 'occurred_at', cover.raw)}) ${filterSql(sql, q)}`]
      : []),
  ];
  if (parts.length === 0) return { currencies: [] };
  const union = parts.reduce((acc, p) => sql`${acc} union all ${p}`);
  // One pass: the per-currency totals and, with a groupBy, the groups (grouping sets), both
  // summed exactly by PostgreSQL, which sends only the first limit + 1 groups of each currency.
  const limit = q.limit ?? MAX_GROUPS_DEFAULT;
  const rows = keys.length === 0
    ? await sql<Record<string, string | boolean | null>[]>`
      select currency, true as total, sum(n)::text as events, sum(revenue)::text as revenue
      from (${union}) parts group by currency`
    : await sql<Record<string, string | boolean | null>[]>`
      select * from (
        select currency, ${sql(keys)}, grouping(${sql(keys)}) <> 0 as total,
          sum(n)::text as events, sum(revenue)::text as revenue,
          row_number() over (partition by currency, grouping(${sql(keys)}) order by sum(n) desc, ${sql.unsafe(keys.map((k) => `${k} collate "C"`).join(', '))}) as rank
        from (${union}) parts
        group by grouping sets ((currency), (currency, ${sql(keys)}))
      ) g
      where total or rank <= ${limit + 1}`;
  const byCurrency = new Map<string, CurrencyRevenue>();
  for (const r of rows) {
    if (r['total'] === null || !r['total']) continue;
    const currency = String(r['currency']);
    byCurrency.set(currency, {
      currency,
      revenue: normalizeDecimal(String(r['revenue'])),
      events: Number(r['events']),
      ...(keys.length > 0 && { groups: [] }),
    });
  }
  for (const r of rows) {
    if (r['total']) continue;
    const g: RevenueGroup = { revenue: normalizeDecimal(String(r['revenue'])), events: Number(r['events']) };
    for (const k of keys) g[k] = String(r[k]);
    byCurrency.get(String(r['currency']))?.groups?.push(g);
  }
  const currencies = [...byCurrency.values()].sort((a, b) => compareNullable(a.currency, b.currency));
  let truncated = false;
  for (const c of currencies) {
    c.groups?.sort((a, b) => b.events - a.events || compareKeys(a, b, keys));
    if (c.groups !== undefined && c.groups.length > limit) {
      c.groups.length = limit;
      c.truncated = true;
      truncated = true;
    }
  }
  return { currencies, ...(truncated && { truncated: true as const }) };
}

function compareKeys(a: RevenueGroup, b: RevenueGroup, keys: readonly RevenueGroupKey[]): number {
  for (const k of keys) {
    const c = compareNullable(a[k], b[k]);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * The canonical form of a PostgreSQL numeric's text: no trailing zeros after the point, no
 * point without digits after it, "0" for any zero (never "-0").
 *
 * @example
 * normalizeDecimal('19.900'); // '19.9'
 * normalizeDecimal('-0.00');  // '0'
 * normalizeDecimal('120');    // '120'
 */
export function normalizeDecimal(s: string): Decimal {
  let out = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  if (/^-?0*$/.test(out)) out = '0';
  return out;
}
