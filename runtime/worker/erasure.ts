// What a worker needs to run erasure commands in order (DESIGN.md, Erasure). Rule: an
// erasure that is done stays done across replays — after a crash or a rebalance between the
// erase transaction and the offset commit, the partition is replayed from before the
// command, and the user's events ahead of the command (which the erasure already erased)
// would be stored again. So on the first message of each partition it is given, a worker
// loads the partition's done erasures at or after that offset (the fences), and drops every
// event of a fenced key whose offset is below its fence. Events after the command are new data
// — except a re-produced copy (./reproduce.ts) of an event produced before the erasure was
// requested: that event was accepted before the erasure, so the erasure covers it wherever its
// copy lands.
import type { IHeaders } from 'kafkajs';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { COMMAND_HEADER } from '../../actors/index.ts';
import { eraseUser, erasureFences, erasureRequestTimes, type Sql } from '../../db/index.ts';
import { extractHeaders, inSpan } from '../../otel/index.ts';

/** The command a message carries (the value of its COMMAND_HEADER), or undefined for an event. */
export function commandOf(headers: IHeaders | undefined): string | undefined {
  const h = headers?.[COMMAND_HEADER];
  if (h === undefined) return undefined;
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? '' : v.toString();
}

/** Per partition of the current assignment: key → offset of its done erasure command. */
export class ErasureFences {
  readonly #byPartition = new Map<number, Map<string, bigint>>();
  /** Per partition: key → when its newest done erasure was requested (epoch ms). */
  readonly #requestedAt = new Map<number, Map<string, number>>();

  /** A new assignment: every partition loads its fences again. */
  reset(): void {
    this.#byPartition.clear();
    this.#requestedAt.clear();
  }

  loaded(partition: number): boolean {
    return this.#byPartition.has(partition);
  }

  /** Load the fences of a partition that this worker reads from `fromOffset` on. */
  async load(sql: Sql, topic: string, partition: number, fromOffset: string): Promise<void> {
    const [fences, requestedAt] = await Promise.all([erasureFences(sql, topic, partition, fromOffset), erasureRequestTimes(sql, topic, partition, fromOffset)]);
    this.#byPartition.set(partition, fences);
    this.#requestedAt.set(partition, requestedAt);
  }

  /** An erasure of `key` requested at `requestedAtMs` is done in `partition`. */
  erased(partition: number, key: string, requestedAtMs: number): void {
    let times = this.#requestedAt.get(partition);
    if (times === undefined) this.#requestedAt.set(partition, (times = new Map()));
    times.set(key, Math.max(times.get(key) ?? 0, requestedAtMs));
  }

  /** True when a copy of `key`'s event produced at `producedAtMs` was accepted before a done erasure of `key`. */
  dropsCopy(partition: number, key: string, producedAtMs: number): boolean {
    const requestedAt = this.#requestedAt.get(partition)?.get(key);
    return requestedAt !== undefined && producedAtMs <= requestedAt;
  }

  /** True when the event at `offset` of `key` was erased by a command further on. */
  drops(partition: number, key: string, offset: string): boolean {
    const fence = this.#byPartition.get(partition)?.get(key);
    return fence !== undefined && BigInt(offset) < fence;
  }
}

/**
 * The live view's part of an erasure: the user leaves the active-users set at once; the
 * per-minute counters lose the user at the reconciler's next round, from the rollups the
 * erase transaction already corrected (runtime/live/reconciler.ts).
 */
export { forgetLiveUser } from '../live/index.ts';

/** Where an erasure command was read, for its trace. */
export type CommandSource = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly headers: IHeaders | undefined;
  readonly groupId: string;
  readonly workerId: number;
  /** postgresAttributes of the store the erase runs in. */
  readonly db: Attributes;
};

/**
 * One attempt at an erasure, in the command's own trace: a consumer span that continues the
 * `DELETE /v1/users/:userId` request's trace (through the Kafka headers the edge set), with
 * the erase transaction as its child client span, so Jaeger shows how long the SQL took.
 */
export function tracedEraseUser(sql: Sql, args: Parameters<typeof eraseUser>[1], from: CommandSource): ReturnType<typeof eraseUser> {
  return inSpan(`${from.topic} process`, {
    kind: SpanKind.CONSUMER,
    parent: extractHeaders(from.headers),
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': from.topic,
      'messaging.destination.partition.id': String(from.partition),
      'messaging.consumer.group.name': from.groupId,
      'messaging.kafka.offset': Number(from.offset),
      'messaging.kafka.message.offset': Number(from.offset),
      'messaging.kafka.message.key': args.userId,
      'keyflow.command': 'erase-user',
      'keyflow.erasure.id': args.erasureId,
      'keyflow.worker.id': from.workerId,
    },
  }, () => inSpan('DELETE eraseUser', {
    kind: SpanKind.CLIENT,
    attributes: { ...from.db, 'db.operation.name': 'DELETE', 'db.collection.name': 'events', 'db.query.summary': 'DELETE eraseUser' },
  }, async (span) => {
    const result = await eraseUser(sql, args);
    span.setAttribute('keyflow.erasure.events', result.eventsErased);
    span.setAttribute('keyflow.erasure.ran', result.ran);
    return result;
  }));
}
