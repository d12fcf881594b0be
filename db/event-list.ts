// The event list (GET /v1/events): stored events, newest first, a page at a time. Rule: the
// order is total and stable — `occurred_at desc, id desc` with ids compared byte-wise
// (COLLATE "C", whatever the database's collation) — and a page starts strictly after the
// position of the previous page's last event, so paging through a list that does not change
// yields every matching event exactly once; events stored meanwhile appear in their place
// (on a later page if older than the position, never twice).
import type { Sql } from './connect.ts';
import { toStoredEvent, type EventRow, type StoredEvent } from './queries.ts';

/** Where a page ends: the (occurredAt, id) of its last event. */
export type EventPosition = { readonly occurredAt: Date; readonly id: string };

export type EventListQuery = {
  readonly userId?: string;
  /** Any of these types. */
  readonly type?: readonly string[];
  /** Any of these sources. */
  readonly source?: readonly string[];
  /** Inclusive. */
  readonly from?: Date;
  /** Exclusive. */
  readonly to?: Date;
  /** 1..1000. */
  readonly limit: number;
  /** Only events strictly after this position in the list's order. */
  readonly after?: EventPosition;
};

/** One page; `next` is where the next page starts, absent on the last page. */
export type EventListPage = { events: StoredEvent[]; next?: EventPosition };

const MAX_LIMIT = 1000;

/**
 * One page of stored events matching the query, newest first.
 *
 * @example
 * const first = await listEvents(sql, { userId: 'u-42', limit: 100 });
 * const second = first.next && (await listEvents(sql, { userId: 'u-42', limit: 100, after: first.next }));
 */
export async function listEvents(sql: Sql, q: EventListQuery): Promise<EventListPage> {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_LIMIT) throw new RangeError(`limit must be an integer in 1..${MAX_LIMIT} (got ${q.limit})`);
  // An empty list of types or sources matches nothing (and `in ()` is not SQL).
  if (q.type?.length === 0 || q.source?.length === 0) return { events: [] };
  const after = q.after;
  // occurred_at <= t first, so the (occurred_at desc) indexes bound the scan; then the tie on id.
  const rows = await sql<EventRow[]>`
    select id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount,
      revenue_currency, user_age, user_gender, user_country, user_city, properties, received_at
    from events
    where true
      ${q.userId !== undefined ? sql`and user_id = ${q.userId}` : sql``}
      ${q.type !== undefined ? sql`and type in ${sql([...q.type])}` : sql``}
      ${q.source !== undefined ? sql`and source in ${sql([...q.source])}` : sql``}
      ${q.from !== undefined ? sql`and occurred_at >= ${q.from}` : sql``}
      ${q.to !== undefined ? sql`and occurred_at < ${q.to}` : sql``}
      ${after !== undefined
        ? sql`and occurred_at <= ${after.occurredAt} and (occurred_at < ${after.occurredAt} or id collate "C" < ${after.id})`
        : sql``}
    order by occurred_at desc, id collate "C" desc
    limit ${q.limit + 1}`;
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  const events = page.map(toStoredEvent);
  return rows.length > q.limit && last !== undefined ? { events, next: { occurredAt: last.occurred_at, id: last.id } } : { events };
}
