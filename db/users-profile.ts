// The profile of one user (GET /v1/users/:userId). Rule: every part of the answer is read in
// one statement, so from one snapshot — the counts, the revenue and the recent events always
// agree with each other and with the users row, even while flushes run. The profile fields
// are the users dimension's current values (the newest occurredAt that carried each field);
// counts and revenue are exact over the user's stored events (revenue as the decimal sum).
import type { Sql } from './connect.ts';
import { toStoredEvent, type EventRow, type StoredEvent } from './queries.ts';

/** How many of the user's newest events the profile carries. */
export const RECENT_EVENTS = 20;

export type UserProfile = {
  userId: string;
  /** RFC 3339: the earliest and latest occurredAt among the user's events. */
  firstSeen: string;
  lastSeen: string;
  /** How many events of the user are stored. */
  events: number;
  profile: { age?: number; gender?: string; country?: string; city?: string };
  /** Events per type, by count descending, then type ascending (byte-wise). */
  types: { type: string; count: number }[];
  /** Revenue per currency (ascending), the exact decimal sum; refunds subtract. */
  revenue: { currency: string; revenue: string }[];
  /** The newest events, by (occurredAt desc, id desc), at most RECENT_EVENTS. */
  recent: StoredEvent[];
};

type Row = Partial<EventRow> & {
  u_first_seen: Date;
  u_last_seen: Date;
  u_events: string;
  u_age: number | null;
  u_gender: string | null;
  u_country: string | null;
  u_city: string | null;
  u_types: { type: string; count: number }[];
  u_revenue: { currency: string; revenue: string }[];
};

/**
 * The profile of `userId`, or undefined when keyflow has stored no event of that user.
 *
 * @example
 * const p = await getUserProfile(sql, 'u-42');
 * p?.types; // [{ type: 'page.view', count: 12 }, { type: 'checkout.complete', count: 2 }]
 */
export async function getUserProfile(sql: Sql, userId: string): Promise<UserProfile | undefined> {
  // One row per recent event (or one row with null event columns when there is none), each
  // carrying the users row and the aggregates: one statement, one snapshot.
  const rows = await sql<Row[]>`
    with u as (select * from users where user_id = ${userId}),
    -- One pass over the user's events for both the counts and the revenue.
    agg as materialized (
      select type, revenue_currency, count(*) as n, sum(revenue_amount) as total
      from events where user_id = ${userId} group by type, revenue_currency
    ),
    types as (
      select coalesce(json_agg(json_build_object('type', type, 'count', n) order by n desc, type collate "C"), '[]'::json) as j
      from (select type, sum(n)::int8 as n from agg group by type) t
    ),
    revenue as (
      select coalesce(json_agg(json_build_object('currency', currency, 'revenue', total::text) order by currency collate "C"), '[]'::json) as j
      from (select revenue_currency as currency, sum(total) as total from agg where revenue_currency is not null group by revenue_currency) r
    ),
    recent as (
      select id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount,
        revenue_currency, user_age, user_gender, user_country, user_city, properties, received_at
      from events where user_id = ${userId}
      order by occurred_at desc, id collate "C" desc
      limit ${RECENT_EVENTS}
    )
    select recent.*, u.first_seen as u_first_seen, u.last_seen as u_last_seen, u.events::text as u_events,
      u.age as u_age, u.gender as u_gender, u.country as u_country, u.city as u_city,
      types.j as u_types, revenue.j as u_revenue
    from u cross join types cross join revenue left join recent on true
    order by recent.occurred_at desc, recent.id collate "C" desc`;
  const head = rows[0];
  if (head === undefined) return undefined;
  return {
    userId,
    firstSeen: head.u_first_seen.toISOString(),
    lastSeen: head.u_last_seen.toISOString(),
    events: Number(head.u_events),
    profile: {
      ...(head.u_age !== null && { age: head.u_age }),
      ...(head.u_gender !== null && { gender: head.u_gender }),
      ...(head.u_country !== null && { country: head.u_country }),
      ...(head.u_city !== null && { city: head.u_city }),
    },
    types: head.u_types,
    revenue: head.u_revenue,
    recent: rows.filter((r): r is Row & EventRow => r.id !== null && r.id !== undefined).map(toStoredEvent),
  };
}
