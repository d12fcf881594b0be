// The flush transaction, the heart of "effectively once" (DESIGN.md, Guarantees).
// Rule: in one transaction, events are inserted with ON CONFLICT DO NOTHING and the rollups
// (minute, hour, day), the user activity (hour, day) and the users dimension grow only by the
// rows that statement really inserted, so a replayed batch — whole, partial, or duplicated
// inside itself — is stored once and counted once. Dead letters are keyed by (topic, partition, offset) and stored once. The caller
// commits Kafka offsets only after this resolves.
//
// The transaction is one statement (data-modifying CTEs), sent on a pooled connection with
// the batch as two JSON parameters. Measured against a COPY into a staging table followed by
// INSERT … SELECT (db/flush-bench.ts, and the report of issue #6), COPY was ~15% faster but
// needs an explicit transaction on a reserved connection, and postgres.js 3.4.9 crashes the
// thread or hangs when a reserved connection's server goes away mid-transaction
// (porsager/postgres#1208) — exactly what a PostgreSQL restart does. One statement has no
// transaction to roll back on a dead connection, and one round trip instead of five.
//
// What the coarser levels cost (db/flush-bench.ts 15 2000 60000, on the shared 2-core
// machine, medians of two runs each): 2,000 events per flush took ~150 ms with the minute
// rollups and users only, ~165 ms with the hour and day rollups added, ~255 ms with the user
// activity too (one row per user, hour or day, source, type and stage: ~1,900 rows per level
// for this batch of 500 users). That is the price of exact distinct users over any window;
// since 0005 (activity keyed user first) and 0006 (a day's activity built from its hours once
// the day is over, db/activity-days.ts) a flush writes one activity row per event, not two.
import { createHash } from 'node:crypto';
import { identityOf, type KeyflowEvent } from '../actors/index.ts';
import type { Sql } from './connect.ts';
import { backoffMs } from '../runtime/backoff.ts';

/**
 * A Kafka message that could not become an event, with its raw bytes (or a prefix of them:
 * see db/dead-letter.ts, boundDeadLetter).
 */
export type DeadLetterRow = {
  readonly topic: string;
  readonly partition: number;
  /** The Kafka offset, as kafkajs gives it (a decimal string); the first one for a range. */
  readonly offset: string;
  /** The last offset when this dead letter covers every offset from `offset` to it (a record batch). */
  readonly lastOffset?: string;
  readonly key: Uint8Array | null;
  /** The value, or a prefix of it when `rawLength` says the value was longer. */
  readonly raw: Uint8Array | null;
  /** Bytes of the whole value; absent when `raw` is the whole value. */
  readonly rawLength?: number;
  /** SHA-256 of the whole value; absent when `raw` is the whole value. */
  readonly rawSha256?: Uint8Array;
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
 * Store a batch of events and dead letters, and add the new events to `rollups_minute`,
 * `rollups_hour`, `rollups_day`, `activity_sets_hour`, `activity_sets_day` and `users`. Retries on deadlock or serialization failure; other errors reject — an event
 * PostgreSQL cannot store (e.g. a NUL character) with a SQLSTATE of class 22.
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
  const params = [JSON.stringify(rows), JSON.stringify(deadLetters)];

  for (let attempt = 1; ; attempt++) {
    try {
      const result = await sql.unsafe<FlushRow[]>(FLUSH, [...params, rows.length], { prepare: true });
      return answerOf(result, byIdentity);
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code)) throw e;
      opts.onRetry?.(e, attempt);
      await sleep(backoffMs(attempt + 1, { baseMs: 10, maxMs: 1_000 }));
    }
  }
}

/** The incoming value of a demographic field wins: said later, or as late and greater. */
const newer = (field: 'age' | 'gender' | 'country' | 'city'): string =>
  `excluded.${field}_at is not null and (u.${field}_at is null or (excluded.${field}_at, excluded.${field}) > (u.${field}_at, u.${field}))`;

/** The CTE that adds the inserted rows to one rollup level (the bucket is the UTC unit). */
const level = (table: string, unit: 'minute' | 'hour' | 'day'): string => `${table}_up as (
    insert into ${table} as r (bucket, source, type, funnel_stage, currency, events, revenue)
    select date_trunc('${unit}', occurred_at, 'UTC'), source, type, coalesce(funnel_stage, ''),
      coalesce(revenue_currency, ''), count(*), coalesce(sum(revenue_amount), 0)
    from inserted
    group by 1, 2, 3, 4, 5
    order by 1, 2, 3, 4, 5
    on conflict (bucket, source, type, funnel_stage, currency)
    do update set events = r.events + excluded.events, revenue = r.revenue + excluded.revenue
  )`;

/**
 * The CTE that appends one fragment per (bucket, key) of the inserted rows' users to the
 * activity sets of each hour or day (db/activity-sets.ts): no existing row is read or
 * locked, so the cost is the batch's, never the bucket's. `only` narrows the rows (the day
 * level takes only the days already compacted, see 0006). Ordinals come from the users
 * upsert's RETURNING.
 */
const activity = (table: string, unit: 'hour' | 'day', only = ''): string => `${table}_up as (
    insert into ${table} as a (bucket, source, type, funnel_stage, users, events)
    select bucket, source, type, funnel_stage, array_agg(ordinal order by ordinal), array_agg(n order by ordinal)
    from (
      select date_trunc('${unit}', i.occurred_at, 'UTC') as bucket, i.source, i.type, coalesce(i.funnel_stage, '') as funnel_stage,
        o.ordinal, count(*)::int4 as n
      from inserted i join users_upserted o on o.user_id = i.user_id
      where true ${only}
      group by 1, 2, 3, 4, 5
    ) g
    group by 1, 2, 3, 4
  )`;

/**
 * $1: the events (JSON array of EventRow), $2: the dead letters (JSON array of
 * DeadLetterJson). Inserts the events; from exactly the rows inserted (RETURNING) adds to
 * every rollup level, the user activity and the users dimension, upserting in key order so
 * that concurrent flushes lock rows in the same order; stores the dead letters. $3: how many
 * event rows $1 holds. Answers one row of counts (events and dead letters inserted) and, only
 * when fewer than $3 events were inserted (a replay), one row (id, occurred_at) per event
 * inserted: the common flush gets one row back and parses no timestamps.
 * One constant text, so it is parsed and planned once per connection.
 */
const FLUSH = `
  with input as (
    select * from jsonb_to_recordset($1::text::jsonb) as r(
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
    returning id, occurred_at, type, source, funnel_stage, revenue_amount, revenue_currency,
      user_id, user_age, user_gender, user_country, user_city
  ), ${level('rollups_minute', 'minute')}, ${level('rollups_hour', 'hour')}, ${level('rollups_day', 'day')},
  days as (
    select distinct date_trunc('day', occurred_at, 'UTC') as day from input where user_id is not null
  ), new_days as (
    -- A day first met here starts open (not compacted): this flush writes only its hours.
    insert into activity_days (day) select day from days order by day on conflict do nothing
  ), locked_days as (
    -- Held until commit: the day's compaction waits for this flush (db/activity-days.ts).
    select day, compacted from activity_days where day in (select day from days) order by day for share
  ),
  seen as (
    -- Per user: the newest value of each demographic field and when it was said (ties: the
    -- greater value, as in the upsert below, so the outcome never depends on flush order).
    select user_id, min(occurred_at) as first_seen, max(occurred_at) as last_seen, count(*) as events,
      (array_agg(user_age order by occurred_at desc, user_age desc) filter (where user_age is not null))[1] as age,
      max(occurred_at) filter (where user_age is not null) as age_at,
      (array_agg(user_gender order by occurred_at desc, user_gender desc) filter (where user_gender is not null))[1] as gender,
      max(occurred_at) filter (where user_gender is not null) as gender_at,
      (array_agg(user_country order by occurred_at desc, user_country desc) filter (where user_country is not null))[1] as country,
      max(occurred_at) filter (where user_country is not null) as country_at,
      (array_agg(user_city order by occurred_at desc, user_city desc) filter (where user_city is not null))[1] as city,
      max(occurred_at) filter (where user_city is not null) as city_at
    from inserted
    where user_id is not null
    group by user_id
  ), users_upserted as (
    insert into users as u (user_id, age, gender, country, city, age_at, gender_at, country_at, city_at, first_seen, last_seen, events, ordinal)
    select user_id, age, gender, country, city, age_at, gender_at, country_at, city_at, first_seen, last_seen, events,
      -- A new user takes the next ordinal; coalesce calls nextval only when the user is not found.
      coalesce((select x.ordinal from users x where x.user_id = seen.user_id), nextval('users_ordinal')::int4)
    from seen
    order by user_id
    on conflict (user_id) do update set
      first_seen = least(u.first_seen, excluded.first_seen),
      last_seen = greatest(u.last_seen, excluded.last_seen),
      events = u.events + excluded.events,
      age = case when ${newer('age')} then excluded.age else u.age end,
      age_at = greatest(u.age_at, excluded.age_at),
      gender = case when ${newer('gender')} then excluded.gender else u.gender end,
      gender_at = greatest(u.gender_at, excluded.gender_at),
      country = case when ${newer('country')} then excluded.country else u.country end,
      country_at = greatest(u.country_at, excluded.country_at),
      city = case when ${newer('city')} then excluded.city else u.city end,
      city_at = greatest(u.city_at, excluded.city_at)
    returning user_id, ordinal
  ),
  ${activity('activity_sets_hour', 'hour')},
  ${activity('activity_sets_day', 'day', "and date_trunc('day', i.occurred_at, 'UTC') in (select day from locked_days where compacted)")},
  dead as (
    insert into dead_letters (topic, partition, "offset", last_offset, message_key, raw, raw_length, raw_sha256, reason, error)
    select topic, partition, "offset", last_offset, decode(message_key, 'base64'), decode(raw, 'base64'),
      raw_length, decode(raw_sha256, 'hex'), reason, error
    from jsonb_to_recordset($2::text::jsonb) as d(
      topic text, partition int, "offset" bigint, last_offset bigint, message_key text, raw text,
      raw_length bigint, raw_sha256 text, reason text, error text)
    on conflict do nothing
    returning 1
  )
  select null::text as id, null::timestamptz as occurred_at,
    (select count(*) from inserted)::int as inserted, (select count(*) from dead)::int as dead,
    -- Reading every locked day here makes sure each of them is locked, whatever the plan.
    (select count(*) from locked_days)::int as days
  union all
  select id, occurred_at, null, null, null from inserted where (select count(*) from inserted) < $3::int`;

/** A row of the flush's answer: the counts (id null), or one inserted event's identity. */
type FlushRow = { id: string | null; occurred_at: Date | null; inserted: number | null; dead: number | null; days: number | null };

/** The events stored for the first time (input order) and the dead letters inserted. */
function answerOf(result: readonly FlushRow[], byIdentity: ReadonlyMap<string, KeyflowEvent>): FlushResult {
  const counts = result.find((r) => r.id === null);
  if (counts?.inserted == null || counts.dead == null) throw new Error('flushBatch: the flush statement answered no counts');
  const deadLettersInserted = counts.dead;
  if (counts.inserted === byIdentity.size) return { inserted: [...byIdentity.values()], deadLettersInserted };
  const fresh = new Set<string>();
  for (const r of result) if (r.id !== null && r.occurred_at !== null) fresh.add(identityOf({ id: r.id, occurredAt: r.occurred_at.getTime() }));
  const inserted = [...byIdentity.entries()].filter(([k]) => fresh.has(k)).map(([, e]) => e);
  return { inserted, deadLettersInserted };
}

type EventRow = {
  id: string;
  occurred_at: string;
  type: string;
  source: string;
  user_id: string | undefined;
  session_id: string | undefined;
  funnel_stage: string | undefined;
  revenue_amount: number | undefined;
  revenue_currency: string | undefined;
  user_age: number | undefined;
  user_gender: string | undefined;
  user_country: string | undefined;
  user_city: string | undefined;
  properties: Record<string, unknown> | undefined;
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
    // One shape for every row (no spreads): an absent field is undefined, which JSON.stringify
    // leaves out, so it arrives as NULL.
    rows.push({
      id: e.id,
      // An ISO string keeps milliseconds exact; a float epoch would not.
      occurred_at: new Date(e.occurredAt).toISOString(),
      type: e.type,
      source: e.source,
      user_id: e.userId,
      session_id: e.sessionId,
      funnel_stage: e.funnelStage,
      revenue_amount: e.revenue?.amount,
      revenue_currency: e.revenue?.currency,
      user_age: e.user?.age,
      user_gender: e.user?.gender,
      user_country: e.user?.country,
      user_city: e.user?.city,
      properties: e.properties,
      partition_key: batch.partitionKeys[i] as string,
    });
  });
  // One global order for every flush: two flushes that share events then wait on each other
  // in the same order instead of deadlocking (a rebalance can hand a batch to two workers).
  rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.occurred_at < b.occurred_at ? -1 : a.occurred_at > b.occurred_at ? 1 : 0));
  return { rows, byIdentity };
}

type DeadLetterJson = {
  topic: string;
  partition: number;
  offset: string;
  last_offset: string | null;
  message_key: string | null;
  raw: string | null;
  raw_length: number | null;
  raw_sha256: string | null;
  reason: string;
  error: string;
};

function deadLetterRows(rows: readonly DeadLetterRow[]): DeadLetterJson[] {
  return rows.map((d) => {
    const raw = d.raw === null ? null : Buffer.from(d.raw.buffer, d.raw.byteOffset, d.raw.byteLength);
    return {
      topic: d.topic,
      partition: d.partition,
      offset: d.offset,
      last_offset: d.lastOffset ?? null,
      message_key: d.key === null ? null : Buffer.from(d.key).toString('base64'),
      raw: raw === null ? null : raw.toString('base64'),
      // A row without them carries its whole value: describe that.
      raw_length: raw === null ? null : (d.rawLength ?? raw.byteLength),
      raw_sha256: raw === null ? null : d.rawSha256 !== undefined ? Buffer.from(d.rawSha256).toString('hex') : createHash('sha256').update(raw).digest('hex'),
      reason: storable(d.reason),
      error: storable(d.error),
    };
  });
}

/**
 * PostgreSQL text holds neither NUL nor an unpaired surrogate, and an error message quoting
 * bad input (a zod message naming a key, say) may contain either: a dead letter must never
 * be refused for its own message, or it would block its partition.
 */
function storable(s: string): string {
  return s.replace(UNSTORABLE, '\ufffd');
}

// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The flush statement's text, for db/flush-breakdown.ts (which times it with parts removed). */
export const FLUSH_STATEMENT: string = FLUSH;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
