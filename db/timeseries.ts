// GET /v1/analytics/timeseries over the store. Rule: each bucket part (a bucket of the series
// clipped to the window) is answered from the coarsest UTC level that tiles it exactly —
// counts and revenue from rollups_day/hour/minute plus raw `events` at sub-minute edges,
// distinct users from user_activity_day/hour plus raw `events` at sub-hour edges (a day not
// compacted yet from its hours: see db/activity-days.ts; each run of nearby activity parts is
// read once and its rows matched to parts by binary search, so a zone's 24 or 720 parts cost
// one read whatever their alignment to UTC) — so cost grows with the buckets touched, never with the span or the number of events; and all parts
// go to PostgreSQL in one statement as arrays (part index, from, to) per level, never one
// query per bucket (each level's parts travel as one JSON array of {i, f, t}, instants as
// RFC 3339 text, exact to the millisecond). Revenue is the exact decimal sum in canonical form (no trailing zeros).
import type { Sql } from './connect.ts';
import { openDays } from './activity-days.ts';
import { coverWindow, hoursForOpenDays, type Range } from './cover.ts';
import { seriesBuckets, type BucketPart, type Interval } from './tz.ts';

export type { Interval };

/** A validated time-series query; `from` inclusive, `to` exclusive. */
export type TimeseriesQuery = {
  readonly from: Date;
  readonly to: Date;
  readonly interval: Interval;
  /** IANA zone name, already validated. */
  readonly tz: string;
  readonly source?: readonly string[];
  readonly type?: readonly string[];
  readonly funnelStage?: 'top' | 'bottom';
};

/** One point: `t` the bucket start (epoch ms), counts over the bucket's part inside the window. */
export type TimeseriesPoint = {
  readonly t: number;
  readonly events: number;
  readonly users: number;
  /** Decimal string per currency present in the bucket part. */
  readonly revenue: Readonly<Record<string, string>>;
};

/** The most points a series may have (DESIGN.md). */
export const MAX_POINTS = 10_000;

type Part = { i: number; f: string; t: string };
type Parts = Part[];
const parts = (): Parts => [];
const push = (p: Parts, i: number, ranges: readonly Range[]): void => {
  for (const r of ranges) p.push({ i, f: r.from.toISOString(), t: r.to.toISOString() });
};

/**
 * The series for `q`. Throws TooManyBucketsError (from db/tz.ts) past MAX_POINTS points.
 *
 * @example
 * const points = await timeseries(sql, { from, to, interval: '1h', tz: 'Asia/Kolkata' });
 */
export async function timeseries(sql: Sql, q: TimeseriesQuery): Promise<TimeseriesPoint[]> {
  const buckets: BucketPart[] = seriesBuckets(q.tz, q.interval, q.from.getTime(), q.to.getTime(), MAX_POINTS);
  const lv = { day: parts(), hour: parts(), minute: parts(), raw: parts() };
  const ua = { day: parts(), hour: parts(), raw: parts() };
  // Days not compacted yet have their distinct users in their hours only (migration 0006).
  const open = await openDays(sql, q.from, q.to);
  buckets.forEach((b, i) => {
    const c = coverWindow(b.from, b.to);
    push(lv.day, i, c.day);
    push(lv.hour, i, c.hour);
    push(lv.minute, i, c.minute);
    push(lv.raw, i, c.raw);
    const u = hoursForOpenDays(coverWindow(b.from, b.to, { finest: 'hour' }), open);
    push(ua.day, i, u.day);
    push(ua.hour, i, u.hour);
    push(ua.raw, i, u.raw);
  });
  const filters = sql`
    ${q.source !== undefined ? sql`and x.source in (select jsonb_array_elements_text(${JSON.stringify([...q.source])}::text::jsonb))` : sql``}
    ${q.type !== undefined ? sql`and x.type in (select jsonb_array_elements_text(${JSON.stringify([...q.type])}::text::jsonb))` : sql``}
    ${q.funnelStage !== undefined ? sql`and x.funnel_stage = ${q.funnelStage}` : sql``}`;
  const arr = (p: Parts) => sql`jsonb_to_recordset(${JSON.stringify(p)}::text::jsonb) as p(i int, f timestamptz, t timestamptz)`;
  const level = (table: string, p: Parts) => sql`
    select p.i, x.currency, x.events, x.revenue from ${arr(p)}
    join ${sql(table)} x on x.bucket >= p.f and x.bucket < p.t where true ${filters}`;
  // Activity rows are never looked up per part: the tables have only a BRIN index on bucket,
  // and a lookup per part re-read every block the index cannot rule out once per part (24
  // times for a 1h series, 720 for a 1d series in America/New_York). Each run of nearby
  // parts is read once, and a row finds its part by binary search over the parts' bounds
  // (width_bucket), with no join.
  const activity = (table: string, p: Parts) => {
    if (p.length === 0) return sql`select 0 as i, ''::text as user_id where false`;
    const { bounds, owners } = partLookup(p);
    const from = (a: unknown[], type: 'timestamptz' | 'int') => sql`array(
      select v::${sql.unsafe(type)} from jsonb_array_elements_text(${JSON.stringify(a)}::text::jsonb) with ordinality a(v, n) order by n)`;
    return sql`
    select i, user_id from (
      select (${from(owners, 'int')})[width_bucket(x.bucket, ${from(bounds, 'timestamptz')})] as i, x.user_id
      from ${arr(runs(p))} join ${sql(table)} x on x.bucket >= p.f and x.bucket < p.t where true ${filters}
    ) y where i is not null`;
  };
  const rows = await sql<{ i: number; kind: string; currency: string; n: string; revenue: string | null }[]>`
    with counts as (
      ${level('rollups_day', lv.day)}
      union all ${level('rollups_hour', lv.hour)}
      union all ${level('rollups_minute', lv.minute)}
      union all
      select p.i, coalesce(x.revenue_currency, ''), 1, coalesce(x.revenue_amount, 0) from ${arr(lv.raw)}
      join events x on x.occurred_at >= p.f and x.occurred_at < p.t where true ${filters}
    ), actives as (
      ${activity('user_activity_day', ua.day)}
      union all ${activity('user_activity_hour', ua.hour)}
      union all
      select p.i, x.user_id from ${arr(ua.raw)}
      join events x on x.occurred_at >= p.f and x.occurred_at < p.t where x.user_id is not null ${filters}
    )
    select i, 'c' as kind, currency, sum(events)::text as n, trim_scale(sum(revenue))::text as revenue from counts group by i, currency
    union all
    select i, 'u', '', count(distinct user_id)::text, null from actives group by i`;
  const events = new Array<number>(buckets.length).fill(0);
  const users = new Array<number>(buckets.length).fill(0);
  const revenue = buckets.map((): Record<string, string> => ({}));
  for (const r of rows) {
    if (r.kind === 'u') users[r.i] = Number(r.n);
    else {
      events[r.i] = (events[r.i] ?? 0) + Number(r.n);
      if (r.currency !== '') (revenue[r.i] as Record<string, string>)[r.currency] = r.revenue ?? '0';
    }
  }
  return buckets.map((b, i) => ({ t: b.t, events: events[i] ?? 0, users: users[i] ?? 0, revenue: sortKeys(revenue[i] ?? {}) }));
}

/** Parts closer than this are read in one scan: the gap's rows cost less than another scan. */
const RUN_GAP_MS = 86_400_000;

/**
 * The parts merged where they are less than RUN_GAP_MS apart, as ranges (index 0): what one
 * scan reads. A day in Asia/Kathmandu is 23 whole UTC hours with 45 and 15 minutes of raw
 * events at its ends, so its parts never touch; a 30-day series is still one scan.
 */
function runs(p: Parts): Parts {
  const sorted = [...p].sort((a, b) => Date.parse(a.f) - Date.parse(b.f));
  const out: Parts = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && Date.parse(r.f) - Date.parse(last.t) <= RUN_GAP_MS) {
      if (Date.parse(r.t) > Date.parse(last.t)) last.t = r.t;
    } else out.push({ i: 0, f: r.f, t: r.t });
  }
  return out;
}

/**
 * The bounds of disjoint parts, sorted, and for the k-th range [bounds[k], bounds[k+1]) the
 * part it belongs to, or null for a gap between parts: PostgreSQL's width_bucket(x, bounds)
 * is k (1-based) for an instant in that range.
 */
function partLookup(p: Parts): { bounds: string[]; owners: (number | null)[] } {
  const bounds: string[] = [];
  const owners: (number | null)[] = [];
  for (const r of [...p].sort((a, b) => Date.parse(a.f) - Date.parse(b.f))) {
    const last = bounds[bounds.length - 1];
    if (last === undefined) bounds.push(r.f);
    else if (Date.parse(last) !== Date.parse(r.f)) {
      owners.push(null);
      bounds.push(r.f);
    }
    owners.push(r.i);
    bounds.push(r.t);
  }
  return { bounds, owners };
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
