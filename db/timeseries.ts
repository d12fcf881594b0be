// GET /v1/analytics/timeseries over the store. Rule: each bucket part (a bucket of the series
// clipped to the window) is answered from the coarsest UTC level that tiles it exactly —
// counts and revenue from rollups_day/hour/minute plus raw `events` at sub-minute edges,
// distinct users as distinct ordinals of the activity sets of days and hours
// (db/activity-sets.ts) plus raw `events` at sub-hour edges (a day not compacted yet from its
// hours: see db/activity-days.ts) — so cost
// grows with the buckets touched, never with the span or the number of events; and all parts
// go to PostgreSQL in one statement as arrays (part index, from, to) per level, never one
// query per bucket (each level's parts travel as one JSON array of {i, f, t}, instants as
// RFC 3339 text, exact to the millisecond). Revenue is the exact decimal sum in canonical form (no trailing zeros).
import type { Sql } from './connect.ts';
import { openDays } from './activity-days.ts';
import { coverWindow, hoursForOpenDays, type Range } from './cover.ts';
import { ordinalOf } from './report-sql.ts';
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
  // ua.raw: the sub-hour edges of buckets that also have whole hours or days (their users are
  // matched to the sets' ordinals); ua.rawOnly: buckets with no whole hour (1h buckets in a
  // zone off the UTC hour, 1m buckets), whose distinct users are plain distinct user_ids —
  // no ordinal to look up for each of their events.
  const ua = { day: parts(), hour: parts(), raw: parts(), rawOnly: parts() };
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
    push(u.day.length + u.hour.length === 0 ? ua.rawOnly : ua.raw, i, u.raw);
  });
  const filters = sql`
    ${q.source !== undefined ? sql`and x.source in (select jsonb_array_elements_text(${JSON.stringify([...q.source])}::text::jsonb))` : sql``}
    ${q.type !== undefined ? sql`and x.type in (select jsonb_array_elements_text(${JSON.stringify([...q.type])}::text::jsonb))` : sql``}
    ${q.funnelStage !== undefined ? sql`and x.funnel_stage = ${q.funnelStage}` : sql``}`;
  const arr = (p: Parts) => sql`jsonb_to_recordset(${JSON.stringify(p)}::text::jsonb) as p(i int, f timestamptz, t timestamptz)`;
  // The events of the raw parts `p`, each with its part as p.i, filtered.
  const rawEvents = (p: Parts) => sql`${arr(p)} join events x on x.occurred_at >= p.f and x.occurred_at < p.t where true ${filters}`;
  const level = (table: string, p: Parts) => sql`
    select p.i, x.currency, x.events, x.revenue from ${arr(p)}
    join ${sql(table)} x on x.bucket >= p.f and x.bucket < p.t where true ${filters}`;
  const activity = (table: string, p: Parts) => sql`
    select p.i, m.ordinal from ${arr(p)}
    join ${sql(table)} x on x.bucket >= p.f and x.bucket < p.t
    cross join lateral unnest(x.users) as m(ordinal) where true ${filters}`;
  const rows = await sql<{ i: number; kind: string; currency: string; n: string; revenue: string | null }[]>`
    with counts as (
      ${level('rollups_day', lv.day)}
      union all ${level('rollups_hour', lv.hour)}
      union all ${level('rollups_minute', lv.minute)}
      union all
      select p.i, coalesce(x.revenue_currency, ''), 1, coalesce(x.revenue_amount, 0) from ${rawEvents(lv.raw)}
    ), actives as (
      ${activity('activity_sets_day', ua.day)}
      union all ${activity('activity_sets_hour', ua.hour)}
      union all
      select p.i, ${ordinalOf(sql, 'x.user_id')} as ordinal from ${rawEvents(ua.raw)}
    )
    select i, 'c' as kind, currency, sum(events)::text as n, trim_scale(sum(revenue))::text as revenue from counts group by i, currency
    union all
    select i, 'u', '', count(distinct ordinal)::text, null from actives group by i
    union all
    select p.i, 'u', '', count(distinct x.user_id)::text, null from ${rawEvents(ua.rawOnly)} group by p.i`;
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

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
