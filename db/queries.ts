// Reads for the HTTP API: one stored event, event counts over a time range, dead letters.
// Rule: answers are exact — a report over [from, to) counts every stored event in that range
// once, whole minutes from rollups_minute and the partial minutes at either edge from
// `events` — and come back in the API's shape (RFC 3339 times, absent fields omitted).
import type { KeyflowEvent } from '../actors/index.ts';
import type { Sql } from './connect.ts';
import { InvalidCursorError } from './errors.ts';

const MINUTE_MS = 60_000;

/** A stored event in the API shape: occurredAt as RFC 3339, plus when keyflow received it. */
export type StoredEvent = Omit<KeyflowEvent, 'occurredAt'> & { readonly occurredAt: string; readonly receivedAt: string };

/** A row of `events` as EVENT_COLUMNS selects it. */
export type EventRow = {
  id: string;
  occurred_at: Date;
  type: string;
  source: string;
  user_id: string | null;
  session_id: string | null;
  funnel_stage: 'top' | 'bottom' | null;
  revenue_amount: string | null;
  revenue_currency: string | null;
  user_age: number | null;
  user_gender: string | null;
  user_country: string | null;
  user_city: string | null;
  properties: Record<string, string | number | boolean | null> | null;
  received_at: Date;
};

/**
 * The stored event with this id; when several share it (different occurredAt), the newest.
 *
 * @example
 * const e = await getEvent(sql, '3f7c…'); // undefined when none
 */
export async function getEvent(sql: Sql, id: string): Promise<StoredEvent | undefined> {
  const [row] = await sql<EventRow[]>`
    select id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount,
      revenue_currency, user_age, user_gender, user_country, user_city, properties, received_at
    from events where id = ${id} order by occurred_at desc limit 1`;
  return row === undefined ? undefined : toStoredEvent(row);
}

/** A row of `events` in the API shape (absent fields omitted). */
export function toStoredEvent(r: EventRow): StoredEvent {
  const user = {
    ...(r.user_age !== null && { age: r.user_age }),
    ...(r.user_gender !== null && { gender: r.user_gender }),
    ...(r.user_country !== null && { country: r.user_country }),
    ...(r.user_city !== null && { city: r.user_city }),
  };
  return {
    id: r.id,
    type: r.type,
    source: r.source,
    occurredAt: r.occurred_at.toISOString(),
    ...(r.user_id !== null && { userId: r.user_id }),
    ...(r.session_id !== null && { sessionId: r.session_id }),
    ...(r.funnel_stage !== null && { funnelStage: r.funnel_stage }),
    ...(r.revenue_amount !== null && r.revenue_currency !== null && {
      revenue: { amount: Number(r.revenue_amount), currency: r.revenue_currency },
    }),
    ...(Object.keys(user).length > 0 && { user }),
    ...(r.properties !== null && { properties: r.properties }),
    receivedAt: r.received_at.toISOString(),
  };
}

export type ReportGroupKey = 'type' | 'source' | 'funnelStage';

export type ReportEventsQuery = {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  readonly source?: string;
  readonly type?: string;
  readonly funnelStage?: 'top' | 'bottom';
  readonly groupBy: readonly ReportGroupKey[];
};

export type ReportGroup = { type?: string; source?: string; funnelStage?: string | null; count: number };

export type EventsReport = { total: number; groups: ReportGroup[] };

const GROUP_COLUMN = { type: 'type', source: 'source', funnelStage: 'funnel_stage' } as const;

/**
 * Count events in [from, to), optionally filtered, optionally grouped. Groups come sorted by
 * count (descending), then by their keys; with an empty groupBy, `groups` is [].
 *
 * @example
 * await reportEvents(sql, { from, to, groupBy: ['source'] });
 * // { total: 3, groups: [{ source: 'facebook', count: 2 }, { source: 'tiktok', count: 1 }] }
 */
export async function reportEvents(sql: Sql, q: ReportEventsQuery): Promise<EventsReport> {
  const from = q.from.getTime();
  const to = q.to.getTime();
  if (!(from < to)) return { total: 0, groups: [] };
  // Whole minutes [midFrom, midTo) come from the rollups; the edges from the events table.
  let midFrom = Math.ceil(from / MINUTE_MS) * MINUTE_MS;
  let midTo = Math.floor(to / MINUTE_MS) * MINUTE_MS;
  if (midFrom >= midTo) midFrom = midTo = to;
  const keys = [...new Set(q.groupBy)];
  const cols = keys.map((k) => GROUP_COLUMN[k]);
  const filters = () => sql`
    ${q.source !== undefined ? sql`and source = ${q.source}` : sql``}
    ${q.type !== undefined ? sql`and type = ${q.type}` : sql``}
    ${q.funnelStage !== undefined ? sql`and funnel_stage = ${q.funnelStage}` : sql``}`;
  const rows = await sql<Record<string, string>[]>`
    with parts as (
      select type, source, funnel_stage, events as n
      from rollups_minute
      where bucket >= ${new Date(midFrom)} and bucket < ${new Date(midTo)} ${filters()}
      union all
      select type, source, coalesce(funnel_stage, ''), 1
      from events
      where ((occurred_at >= ${q.from} and occurred_at < ${new Date(midFrom)})
          or (occurred_at >= ${new Date(midTo)} and occurred_at < ${q.to})) ${filters()}
    )
    select ${cols.length > 0 ? sql`${sql(cols)},` : sql``} coalesce(sum(n), 0)::text as count
    from parts
    ${cols.length > 0 ? sql`group by ${sql(cols)}` : sql``}`;
  if (cols.length === 0) return { total: Number(rows[0]?.['count'] ?? 0), groups: [] };

  const groups = rows.map((r) => {
    const g: ReportGroup = { count: Number(r['count']) };
    for (const k of keys) {
      const v = r[GROUP_COLUMN[k]] ?? '';
      if (k === 'funnelStage') g.funnelStage = v === '' ? null : v;
      else g[k] = v;
    }
    return g;
  });
  groups.sort((a, b) => b.count - a.count || compareKeys(a, b, keys));
  return { total: groups.reduce((n, g) => n + g.count, 0), groups };
}

function compareKeys(a: ReportGroup, b: ReportGroup, keys: readonly ReportGroupKey[]): number {
  for (const k of keys) {
    const x = a[k] ?? '';
    const y = b[k] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** A dead letter as the API shows it: bytes as base64, and the raw bytes as text to read. */
export type DeadLetterView = {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  /** base64, or null when the message had no key. */
  key: string | null;
  /** base64, or null when the message had no value. */
  raw: string | null;
  /** The first 256 characters of raw decoded as UTF-8 (invalid bytes as U+FFFD). */
  rawPreview: string | null;
  reason: string;
  error: string;
  createdAt: string;
};

export type DeadLetterPage = { items: DeadLetterView[]; nextCursor: string | null };

const PREVIEW_CHARS = 256;
const CURSOR = /^dl1:(\d{1,19})$/;
const INT8_MAX = 9_223_372_036_854_775_807n;

/**
 * Dead letters, newest first. Pass `nextCursor` back as `cursor` for the next page.
 * Throws InvalidCursorError for a cursor it did not hand out.
 *
 * @example
 * const page = await listDeadLetters(sql, { limit: 50 });
 * const next = page.nextCursor === null ? undefined : await listDeadLetters(sql, { limit: 50, cursor: page.nextCursor });
 */
export async function listDeadLetters(sql: Sql, opts: { readonly limit: number; readonly cursor?: string }): Promise<DeadLetterPage> {
  const { limit, cursor } = opts;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be an integer in 1..1000 (got ${limit})`);
  const before = cursor === undefined ? undefined : decodeCursor(cursor);
  const rows = await sql<
    { id: string; topic: string; partition: number; offset: string; message_key: Buffer | null; raw: Buffer | null; reason: string; error: string; created_at: Date }[]
  >`
    select id, topic, partition, "offset", message_key, raw, reason, error, created_at
    from dead_letters
    ${before !== undefined ? sql`where id < ${before}::int8` : sql``}
    order by id desc
    limit ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => ({
      id: r.id,
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      key: r.message_key === null ? null : r.message_key.toString('base64'),
      raw: r.raw === null ? null : r.raw.toString('base64'),
      rawPreview: r.raw === null ? null : utf8.decode(r.raw.subarray(0, PREVIEW_CHARS * 4)).slice(0, PREVIEW_CHARS),
      reason: r.reason,
      error: r.error,
      createdAt: r.created_at.toISOString(),
    })),
    nextCursor: rows.length > limit && last !== undefined ? Buffer.from(`dl1:${last.id}`).toString('base64url') : null,
  };
}

function decodeCursor(cursor: string): string {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (m === null || m[1] === undefined || BigInt(m[1]) > INT8_MAX) throw new InvalidCursorError(cursor);
  return m[1];
}

const utf8 = new TextDecoder('utf-8');
