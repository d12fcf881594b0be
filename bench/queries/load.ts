// The data set of the query bench, made inside PostgreSQL. Rule: what it loads is what the
// store path would have stored — events with the same columns, and every rollup level, the
// user activity and the users dimension built from those events by the same grouping the
// flush statement uses (db/flush.ts; the backfill of db/migrations/0003 is that grouping over
// a whole table) — so the bench measures the queries on exactly the tables they read in
// production, only loaded faster than the flush would (which would take hours here).
import type { Sql } from '../../db/index.ts';
import { ensurePartitions } from '../../db/index.ts';

export type LoadOptions = {
  readonly events: number;
  readonly users: number;
  readonly days: number;
  /** The newest event is just before this instant. */
  readonly now: Date;
  /** Seeds PostgreSQL's random() so the same options load the same data. */
  readonly seed: number;
  readonly say: (line: string) => void;
};

export type LoadResult = { readonly eventsMs: number; readonly aggregatesMs: number; readonly rows: Record<string, number> };

const CHUNK = 500_000;
const TYPES = ['page.view', 'ad.view', 'ad.click', 'video.view', 'signup', 'checkout.start', 'checkout.complete'];
const SOURCES = ['facebook', 'google', 'tiktok', 'email', 'direct'];

/**
 * Load `events` events over the `days` days before `now`, from `users` users (skewed: a few
 * users have many events), 5% without a userId, a third carrying demographics that change
 * over time, checkout.complete carrying revenue in USD/EUR/GBP with some refunds.
 */
export async function loadQueryData(sql: Sql, o: LoadOptions): Promise<LoadResult> {
  await ensurePartitions(sql, { aheadDays: 1, behindDays: o.days + 1, now: o.now });
  const conn = await sql.reserve();
  const t0 = Date.now();
  try {
    await conn`select setseed(${(o.seed % 1000) / 1000})`;
    for (let lo = 1; lo <= o.events; lo += CHUNK) {
      const hi = Math.min(o.events, lo + CHUNK - 1);
      await conn`
        insert into events (id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount,
          revenue_currency, user_age, user_gender, user_country, user_city, properties, partition_key)
        select id, occurred_at, type, source, user_id, null, funnel_stage, revenue_amount, revenue_currency,
          case when demo then 13 + (abs(hashtext(user_id)) + version) % 60 end,
          case when demo then (array['female', 'male', 'other'])[1 + (abs(hashtext(user_id)) + version) % 3] end,
          case when demo then (array['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP'])[1 + abs(hashtext(user_id || 'c')) % 7] end,
          case when demo then 'city-' || (abs(hashtext(user_id || 't')) + version) % 200 end,
          null, coalesce(user_id, id)
        from (
          select 'q' || g as id,
            date_trunc('milliseconds', ${o.now}::timestamptz - b * (${o.days} * interval '1 day')) as occurred_at,
            t.type, (${SOURCES}::text[])[1 + floor(d * ${SOURCES.length})::int] as source,
            case when a < 0.95 then 'u' || floor(${o.users} * (a / 0.95) ^ 2)::int end as user_id,
            case when t.type in ('ad.view', 'ad.click') then 'top' when t.type = 'checkout.complete' then 'bottom' end as funnel_stage,
            case when t.type = 'checkout.complete' then round((e * 220 - 20)::numeric, 2) end as revenue_amount,
            case when t.type = 'checkout.complete' then (array['USD', 'EUR', 'GBP'])[1 + floor(e * 3000)::int % 3] end as revenue_currency,
            a < 0.95 and f < 0.33 as demo, floor(b * 3)::int as version
          from (select g, random() a, random() b, random() c, random() d, random() e, random() f from generate_series(${lo}::int, ${hi}::int) g) r
          cross join lateral (select (${TYPES}::text[])[1 + floor(c ^ 1.6 * ${TYPES.length})::int] as type) t
        ) x`;
      o.say(`loaded ${hi.toLocaleString('en-US')} / ${o.events.toLocaleString('en-US')} events`);
    }
  } finally {
    conn.release();
  }
  const eventsMs = Date.now() - t0;
  const t1 = Date.now();
  for (const unit of ['minute', 'hour', 'day'] as const) {
    await sql`
      insert into ${sql(`rollups_${unit}`)} (bucket, source, type, funnel_stage, currency, events, revenue)
      select date_trunc(${unit}, occurred_at, 'UTC'), source, type, coalesce(funnel_stage, ''),
        coalesce(revenue_currency, ''), count(*), coalesce(sum(revenue_amount), 0)
      from events group by 1, 2, 3, 4, 5`;
    o.say(`built rollups_${unit}`);
  }
  // As the flushes and the maintenance leave them: the past days compacted, today open (0006).
  await sql`
    insert into activity_days (day, compacted)
    select distinct date_trunc('day', occurred_at, 'UTC'), date_trunc('day', occurred_at, 'UTC') < date_trunc('day', ${o.now}::timestamptz, 'UTC')
    from events`;
  // The users dimension as the flush's `seen` CTE builds it: the newest value of each field.
  await sql`
    insert into users (user_id, age, gender, country, city, age_at, gender_at, country_at, city_at, first_seen, last_seen, events, ordinal)
    select user_id,
      (array_agg(user_age order by occurred_at desc, user_age desc) filter (where user_age is not null))[1],
      (array_agg(user_gender order by occurred_at desc, user_gender desc) filter (where user_gender is not null))[1],
      (array_agg(user_country order by occurred_at desc, user_country desc) filter (where user_country is not null))[1],
      (array_agg(user_city order by occurred_at desc, user_city desc) filter (where user_city is not null))[1],
      max(occurred_at) filter (where user_age is not null), max(occurred_at) filter (where user_gender is not null),
      max(occurred_at) filter (where user_country is not null), max(occurred_at) filter (where user_city is not null),
      min(occurred_at), max(occurred_at), count(*), nextval('users_ordinal')::int4
    from (select * from events where user_id is not null order by user_id) e group by user_id`;
  o.say('built users');
  // The activity sets as the flushes build them: per bucket and key, the users' ordinals
  // (sorted) with their event counts (db/activity-sets.ts).
  for (const unit of ['hour', 'day'] as const) {
    await sql`
      insert into ${sql(`activity_sets_${unit}`)} (bucket, source, type, funnel_stage, users, events)
      select bucket, source, type, funnel_stage, array_agg(ordinal order by ordinal), array_agg(n order by ordinal)
      from (
        select date_trunc(${unit}, e.occurred_at, 'UTC') as bucket, e.source, e.type, coalesce(e.funnel_stage, '') as funnel_stage,
          u.ordinal, count(*)::int4 as n
        from events e join users u on u.user_id = e.user_id
        ${unit === 'day' ? sql`where e.occurred_at < date_trunc('day', ${o.now}::timestamptz, 'UTC')` : sql``}
        group by 1, 2, 3, 4, 5
      ) g
      group by 1, 2, 3, 4`;
    o.say(`built activity_sets_${unit}`);
  }
  await sql`analyze`;
  const aggregatesMs = Date.now() - t1;
  const rows: Record<string, number> = {};
  for (const t of ['events', 'rollups_minute', 'rollups_hour', 'rollups_day', 'activity_sets_hour', 'activity_sets_day', 'users']) {
    const [r] = await sql<[{ n: number }]>`select count(*)::int as n from ${sql(t)}`;
    rows[t] = r.n;
  }
  return { eventsMs, aggregatesMs, rows };
}
