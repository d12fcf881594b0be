// Erasures in the store (DELETE /v1/users/:userId). Rule: an erasure row exists only for a
// command Kafka acknowledged — the edge records it pending after the acknowledgement, and
// the worker upserts it when it runs the command, so every pending row has a command ahead
// of it in a partition that will complete it, and an edge that died between the
// acknowledgement and its insert loses nothing. Running a command is one call of
// keyflow_erase_user() (migration 0004): one transaction, idempotent by erasure id, so a
// replayed or doubly produced command erases nothing twice and keeps the first run's count.
import { identityOf } from '../actors/index.ts';
import type { Sql } from './connect.ts';
import { backoffMs } from '../runtime/backoff.ts';

/** An erasure as GET /v1/erasures/:id shows it. */
export type ErasureView = {
  readonly id: string;
  readonly userId: string;
  readonly status: 'pending' | 'done';
  readonly eventsErased: number;
  readonly requestedAt: string;
  readonly doneAt?: string;
};

/** What the worker hands the store to run an erasure, with where its command sat in Kafka. */
export type EraseCommand = {
  readonly erasureId: string;
  readonly userId: string;
  readonly requestedAt: Date;
  readonly topic: string;
  readonly partition: number;
  /** The command's Kafka offset (a decimal string). */
  readonly offset: string;
};

export type EraseResult = {
  /** False when the erasure was done already (a replay): nothing was touched. */
  readonly ran: boolean;
  /** The erasure's count (the first run's, on a replay). */
  readonly eventsErased: number;
  /** The identities (actors' identityOf) of the events erased by this run. */
  readonly identities: string[];
};

const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Record a pending erasure whose command Kafka acknowledged; a no-op when the worker ran it
 * already.
 *
 * @example
 * await recordErasure(sql, { erasureId, userId: 'u-42', requestedAt: new Date() });
 */
export async function recordErasure(sql: Sql, e: { readonly erasureId: string; readonly userId: string; readonly requestedAt: Date }): Promise<void> {
  await sql`insert into erasures (id, user_id, requested_at) values (${e.erasureId}, ${e.userId}, ${e.requestedAt}) on conflict (id) do nothing`;
}

/**
 * Erase the user in one transaction and mark the erasure done (see the module rule).
 * Retries a deadlock or serialization failure; other errors reject.
 *
 * @example
 * const { ran, eventsErased } = await eraseUser(sql, { erasureId, userId: 'u-42', requestedAt, topic, partition: 3, offset: '1207' });
 */
export async function eraseUser(sql: Sql, c: EraseCommand): Promise<EraseResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const [row] = await sql<[{ ran: boolean; events_erased: string; ids: string[]; occurred_ats: Date[] }]>`
        select * from keyflow_erase_user_locked(${c.erasureId}, ${c.userId}, ${c.requestedAt}, ${c.topic}, ${c.partition}, ${c.offset}::bigint)`;
      const identities = row.ids.map((id, i) => identityOf({ id, occurredAt: (row.occurred_ats[i] as Date).getTime() }));
      return { ran: row.ran, eventsErased: Number(row.events_erased), identities };
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (attempt >= 5 || typeof code !== 'string' || !RETRYABLE.has(code)) throw e;
      await new Promise((r) => setTimeout(r, backoffMs(attempt + 1, { baseMs: 10, maxMs: 1_000 })));
    }
  }
}

/** The erasure with this id, or undefined. */
export async function getErasure(sql: Sql, id: string): Promise<ErasureView | undefined> {
  const [r] = await sql<{ id: string; user_id: string; status: 'pending' | 'done'; events_erased: string; requested_at: Date; done_at: Date | null }[]>`
    select id, user_id, status, events_erased, requested_at, done_at from erasures where id = ${id}`;
  if (r === undefined) return undefined;
  return {
    id: r.id,
    userId: r.user_id,
    status: r.status,
    eventsErased: Number(r.events_erased),
    requestedAt: r.requested_at.toISOString(),
    ...(r.done_at !== null && { doneAt: r.done_at.toISOString() }),
  };
}

/**
 * The done erasures whose command sits at or after `fromOffset` in this partition: the user
 * (key) → the command's offset. A worker that replays the partition from `fromOffset` drops
 * the user's events before that offset, which the erasure already erased.
 */
export async function erasureFences(sql: Sql, topic: string, partition: number, fromOffset: string): Promise<Map<string, bigint>> {
  const rows = await sql<{ user_id: string; command_offset: string }[]>`
    select user_id, max(command_offset) as command_offset from erasures
    where status = 'done' and topic = ${topic} and partition = ${partition} and command_offset >= ${fromOffset}::bigint
    group by user_id`;
  return new Map(rows.map((r) => [r.user_id, BigInt(r.command_offset)]));
}

/**
 * When each user's newest done erasure of this partition at or after `fromOffset` was
 * requested (epoch ms): a worker drops a re-produced copy of an event produced before it,
 * because that event was accepted before the erasure (runtime/worker/reproduce.ts).
 */
export async function erasureRequestTimes(sql: Sql, topic: string, partition: number, fromOffset: string): Promise<Map<string, number>> {
  const rows = await sql<{ user_id: string; requested_at: Date }[]>`
    select user_id, max(requested_at) as requested_at from erasures
    where status = 'done' and topic = ${topic} and partition = ${partition} and command_offset >= ${fromOffset}::bigint
    group by user_id`;
  return new Map(rows.map((r) => [r.user_id, r.requested_at.getTime()]));
}
