// What a worker needs to run erasure commands in order (DESIGN.md, Erasure). Rule: an
// erasure that is done stays done across replays — after a crash or a rebalance between the
// erase transaction and the offset commit, the partition is replayed from before the
// command, and the user's events ahead of the command (which the erasure already erased)
// would be stored again. So on the first message of each partition it is given, a worker
// loads the partition's done erasures at or after that offset (the fences), and drops every
// event of a fenced key whose offset is below its fence. Events after the command are new data.
import type { IHeaders } from 'kafkajs';
import { COMMAND_HEADER } from '../../actors/index.ts';
import { erasureFences, type Sql } from '../../db/index.ts';

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

  /** A new assignment: every partition loads its fences again. */
  reset(): void {
    this.#byPartition.clear();
  }

  loaded(partition: number): boolean {
    return this.#byPartition.has(partition);
  }

  /** Load the fences of a partition that this worker reads from `fromOffset` on. */
  async load(sql: Sql, topic: string, partition: number, fromOffset: string): Promise<void> {
    this.#byPartition.set(partition, await erasureFences(sql, topic, partition, fromOffset));
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
