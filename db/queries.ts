// Reads for the HTTP API: one stored event and dead letters (the reports live in
// report-*.ts). Rule: answers come back in the API's shape (RFC 3339 times, absent fields
// omitted).
import type { KeyflowEvent } from '../actors/index.ts';
import type { Sql } from './connect.ts';
import { InvalidCursorError } from './errors.ts';

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

/** A dead letter as the API shows it: bytes as base64, and the raw bytes as text to read. */
export type DeadLetterView = {
  id: string;
  topic: string;
  partition: number;
  offset: string;
  /** base64, or null when the message had no key. */
  key: string | null;
  /** The last offset when the dead letter covers a range of offsets (a record batch); null for one message. */
  lastOffset: string | null;
  /** base64 of the value's bytes shown (a prefix when rawTruncated), or null when the message had no value. */
  raw: string | null;
  /** The first 256 characters of raw decoded as UTF-8 (invalid bytes as U+FFFD). */
  rawPreview: string | null;
  /** Bytes of the whole value as it was in Kafka; null when it had none. */
  rawLength: number | null;
  /** SHA-256 of the whole value, hex; null when it had none. */
  rawSha256: string | null;
  /** True when raw shows fewer bytes than rawLength (the worker keeps a prefix, the page shows one). */
  rawTruncated: boolean;
  reason: string;
  /** Why, cut to ERROR_CHARS characters (ending with "…" when cut). */
  error: string;
  createdAt: string;
};

export type DeadLetterPage = { items: DeadLetterView[]; nextCursor: string | null };

const PREVIEW_CHARS = 256;
/**
 * Bytes, not counts (DESIGN.md): one answer shows at most RAW_ITEM_BYTES of each value and
 * ends early — with a nextCursor, after at least one item — once the raw bytes of its items
 * would pass PAGE_RAW_BYTES; an error text shows at most ERROR_CHARS characters.
 */
export const DEAD_LETTER_PAGE_LIMITS = { rawItemBytes: 64 * 1024, pageRawBytes: 1024 * 1024, errorChars: 2_048 } as const;
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
export async function listDeadLetters(
  sql: Sql,
  opts: { readonly limit: number; readonly cursor?: string; readonly rawItemBytes?: number; readonly pageRawBytes?: number },
): Promise<DeadLetterPage> {
  const { limit, cursor } = opts;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be an integer in 1..1000 (got ${limit})`);
  const itemBytes = opts.rawItemBytes ?? DEAD_LETTER_PAGE_LIMITS.rawItemBytes;
  const pageBytes = opts.pageRawBytes ?? DEAD_LETTER_PAGE_LIMITS.pageRawBytes;
  const before = cursor === undefined ? undefined : decodeCursor(cursor);
  // First the candidates' sizes (octet_length reads no TOASTed value), then only the rows
  // that fit the page's byte budget, each value cut in SQL.
  const sizes = await sql<{ id: string; shown: number }[]>`
    select id, least(coalesce(octet_length(raw), 0), ${itemBytes}::int)::int as shown
    from dead_letters
    ${before !== undefined ? sql`where id < ${before}::int8` : sql``}
    order by id desc
    limit ${limit + 1}`;
  const ids: string[] = [];
  let bytes = 0;
  for (const r of sizes.slice(0, limit)) {
    if (ids.length > 0 && bytes + r.shown > pageBytes) break;
    ids.push(r.id);
    bytes += r.shown;
  }
  const rows = ids.length === 0 ? [] : await sql<
    { id: string; topic: string; partition: number; offset: string; last_offset: string | null; message_key: Buffer | null; raw: Buffer | null; raw_length: string | null; raw_sha256: Buffer | null; reason: string; error: string; created_at: Date }[]
  >`
    select id, topic, partition, "offset", last_offset, message_key, substring(raw from 1 for ${itemBytes}::int) as raw,
      coalesce(raw_length, octet_length(raw)) as raw_length, coalesce(raw_sha256, sha256(raw)) as raw_sha256,
      reason, left(error, ${DEAD_LETTER_PAGE_LIMITS.errorChars + 1}::int) as error, created_at
    from dead_letters
    where id = any(${ids}::int8[])
    order by id desc`;
  const last = rows.at(-1);
  return {
    items: rows.map((r) => {
      const rawLength = r.raw_length === null ? null : Number(r.raw_length);
      return {
        id: r.id,
        topic: r.topic,
        partition: r.partition,
        offset: r.offset,
        lastOffset: r.last_offset,
        key: r.message_key === null ? null : r.message_key.toString('base64'),
        raw: r.raw === null ? null : r.raw.toString('base64'),
        rawPreview: r.raw === null ? null : utf8.decode(r.raw.subarray(0, PREVIEW_CHARS * 4)).slice(0, PREVIEW_CHARS),
        rawLength,
        rawSha256: r.raw_sha256 === null ? null : r.raw_sha256.toString('hex'),
        rawTruncated: r.raw !== null && rawLength !== null && r.raw.byteLength < rawLength,
        reason: r.reason,
        error: [...r.error].length > DEAD_LETTER_PAGE_LIMITS.errorChars ? `${[...r.error].slice(0, DEAD_LETTER_PAGE_LIMITS.errorChars - 1).join('')}…` : r.error,
        createdAt: r.created_at.toISOString(),
      };
    }),
    nextCursor: sizes.length > ids.length && last !== undefined ? Buffer.from(`dl1:${last.id}`).toString('base64url') : null,
  };
}

function decodeCursor(cursor: string): string {
  const m = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (m === null || m[1] === undefined || BigInt(m[1]) > INT8_MAX) throw new InvalidCursorError(cursor);
  return m[1];
}

const utf8 = new TextDecoder('utf-8');
