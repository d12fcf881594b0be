// The flush transaction, the heart of "effectively once" (DESIGN.md, Guarantees).
// Rule: in one transaction, events are inserted with ON CONFLICT DO NOTHING and the minute
// rollups grow only by the rows that statement really inserted, so a replayed batch — whole,
// partial, or duplicated inside itself — is stored once and counted once. Dead letters are
// keyed by (topic, partition, offset) and stored once. The caller commits Kafka offsets only
// after this resolves.
import { identityOf, type KeyflowEvent } from '../actors/index.ts';
import type { Sql, Tx } from './connect.ts';

/** A Kafka message that could not become an event, with its raw bytes. */
export type DeadLetterRow = {
  readonly topic: string;
  readonly partition: number;
  /** The Kafka offset, as kafkajs gives it (a decimal string). */
  readonly offset: string;
  readonly key: Uint8Array | null;
  readonly raw: Uint8Array | null;
  readonly reason: string;
  readonly error: string;
};

export type FlushBatch = {
  readonly events: readonly KeyflowEvent[];
  /** The partition key of each event, same length and order as `events`. */
  readonly partitionKeys: readonly string[];
  readonly deadLetters: readonly DeadLetterRow[];
};

export type FlushResult = {
  /** The events this flush stored for the first time (input order); the rest were replays. */
  readonly inserted: KeyflowEvent[];
  readonly deadLettersInserted: number;
};

export type FlushOptions = {
  /** Called before the transaction is run again after a deadlock or serialization failure. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
};

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 5;

/**
 * Store a batch of events and dead letters, and add the new events to `rollups_minute`.
 * Retries the transaction on deadlock or serialization failure; other errors reject.
 *
 * @example
 * const { inserted } = await flushBatch(sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
 * // inserted.length <= events.length; now commit the Kafka offsets
 */
export async function flushBatch(sql: Sql, batch: FlushBatch, opts: FlushOptions = {}): Promise<FlushResult> {
  if (batch.partitionKeys.length !== batch.events.length) {
    throw new RangeError(`flushBatch: ${batch.events.length} events but ${batch.partitionKeys.length} partition keys`);
  }
  const { rows, byIdentity } = eventRows(batch);
  const deadLetters = deadLetterRows(batch.deadLetters);
  if (rows.length === 0 && deadLetters.length === 0) return { inserted: [], deadLettersInserted: 0 };

  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        const insertedIds = rows.length === 0 ? [] : await insertEvents(tx, rows);
        const deadLettersInserted = deadLetters.length === 0 ? 0 : await insertDeadLetters(tx, deadLetters);
        const fresh = new Set(insertedIds.map((r) => identityOf({ id: r.id, occurredAt: r.occurred_at.getTime() })));
        const inserted = [...byIdentity.entries()].filter(([k]) => fresh.has(k)).map(([, e]) => e);
        return { inserted, deadLettersInserted };
      });
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw e;
      opts.onRetry?.(e, attempt);
      await sleep(10 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}

type EventRow = {
  id: string;
  occurred_at: string;
  type: string;
  source: string;
  user_id?: string;
  session_id?: string;
  funnel_stage?: string;
  revenue_amount?: number;
  revenue_currency?: string;
  user_age?: number;
  user_gender?: string;
  user_country?: string;
  user_city?: string;
  properties?: Record<string, unknown>;
  partition_key: string;
};

/** Rows for the batch parameter, first occurrence of each identity only. */
function eventRows(batch: FlushBatch): { rows: EventRow[]; byIdentity: Map<string, KeyflowEvent> } {
  const byIdentity = new Map<string, KeyflowEvent>();
  const rows: EventRow[] = [];
  batch.events.forEach((e, i) => {
    const identity = identityOf(e);
    if (byIdentity.has(identity)) return;
    byIdentity.set(identity, e);
    // Absent fields are left out of the JSON and arrive as NULL.
    rows.push({
      id: e.id,
      // An ISO string keeps milliseconds exact; a float epoch would not.
      occurred_at: new Date(e.occurredAt).toISOString(),
      type: e.type,
      source: e.source,
      ...(e.userId !== undefined && { user_id: e.userId }),
      ...(e.sessionId !== undefined && { session_id: e.sessionId }),
      ...(e.funnelStage !== undefined && { funnel_stage: e.funnelStage }),
      ...(e.revenue !== undefined && { revenue_amount: e.revenue.amount, revenue_currency: e.revenue.currency }),
      ...(e.user?.age !== undefined && { user_age: e.user.age }),
      ...(e.user?.gender !== undefined && { user_gender: e.user.gender }),
      ...(e.user?.country !== undefined && { user_country: e.user.country }),
      ...(e.user?.city !== undefined && { user_city: e.user.city }),
      ...(e.properties !== undefined && { properties: e.properties }),
      partition_key: batch.partitionKeys[i] as string,
    });
  });
  // One global order for every flush: two flushes that share events then wait on each other
  // in the same order instead of deadlocking (a rebalance can hand a batch to two workers).
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0));
  return { rows, byIdentity };
}

/**
 * One statement: insert the events, and from exactly the rows inserted (RETURNING) add to the
 * minute rollups. Rollup rows are upserted in key order so concurrent flushes lock them in
 * the same order.
 */
async function insertEvents(tx: Tx, rows: readonly EventRow[]): Promise<{ id: string; occurred_at: Date }[]> {
  return tx<{ id: string; occurred_at: Date }[]>`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as r(
        id text, occurred_at timestamptz, type text, source text, user_id text, session_id text,
        funnel_stage text, revenue_amount numeric, revenue_currency text, user_age int,
        user_gender text, user_country text, user_city text, properties jsonb, partition_key text)
    ), inserted as (
      insert into events (id, occurred_at, type, source, user_id, session_id, funnel_stage,
        revenue_amount, revenue_currency, user_age, user_gender, user_country, user_city,
        properties, partition_key)
      select id, occurred_at, type, source, user_id, session_id, funnel_stage,
        revenue_amount, revenue_currency, user_age, user_gender, user_country, user_city,
        properties, partition_key
      from input
      on conflict do nothing
      returning id, occurred_at, type, source, funnel_stage, revenue_amount, revenue_currency
    ), rolled as (
      insert into rollups_minute as r (bucket, source, type, funnel_stage, currency, events, revenue)
      select date_trunc('minute', occurred_at, 'UTC'), source, type, coalesce(funnel_stage, ''),
        coalesce(revenue_currency, ''), count(*), coalesce(sum(revenue_amount), 0)
      from inserted
      group by 1, 2, 3, 4, 5
      order by 1, 2, 3, 4, 5
      on conflict (bucket, source, type, funnel_stage, currency)
      do update set events = r.events + excluded.events, revenue = r.revenue + excluded.revenue
    )
    select id, occurred_at from inserted`;
}

type DeadLetterJson = {
  topic: string;
  partition: number;
  offset: string;
  message_key: string | null;
  raw: string | null;
  reason: string;
  error: string;
};

function deadLetterRows(rows: readonly DeadLetterRow[]): DeadLetterJson[] {
  return rows.map((d) => ({
    topic: d.topic,
    partition: d.partition,
    offset: d.offset,
    message_key: d.key === null ? null : Buffer.from(d.key).toString('base64'),
    raw: d.raw === null ? null : Buffer.from(d.raw).toString('base64'),
    // PostgreSQL text cannot hold NUL; an error message quoting binary input may contain one.
    reason: d.reason.replaceAll('\u0000', '\ufffd'),
    error: d.error.replaceAll('\u0000', '\ufffd'),
  }));
}

async function insertDeadLetters(tx: Tx, rows: readonly DeadLetterJson[]): Promise<number> {
  const r = await tx`
    insert into dead_letters (topic, partition, "offset", message_key, raw, reason, error)
    select topic, partition, "offset", decode(message_key, 'base64'), decode(raw, 'base64'), reason, error
    from jsonb_to_recordset(${JSON.stringify(rows)}::text::jsonb) as d(
      topic text, partition int, "offset" bigint, message_key text, raw text, reason text, error text)
    on conflict do nothing`;
  return r.count;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
