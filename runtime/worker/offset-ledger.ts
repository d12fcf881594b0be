// Which Kafka offsets a worker may commit. Rule: offsets are committed only after the rows
// they cover are committed. The flush takes, in its one synchronous step, the last consumed
// offset of each partition together with the generation of the assignment (`take`); once
// the flush transaction commits, those offsets (+1: Kafka's committed offset is the next one
// to read) are committed — unless the group rebalanced since that step (the generation
// fence), because a partition that moved is no longer ours to commit. Partitions that a new
// assignment took away are forgotten at once, and an offset already committed is not
// committed again. Everything consumed before the take step is either in that flush or was
// a duplicate, so a crash anywhere replays only what the store will deduplicate.
//
// Pure bookkeeping: the caller hands `commit` the function that really commits to Kafka.

/** What one flush took: the last consumed offset of each partition, and the generation then. */
export type TakenOffsets = { readonly generation: number; readonly offsets: ReadonlyMap<number, string> };

/** One partition's offset as Kafka commits it: the next offset to read. */
export type OffsetCommit = { readonly partition: number; readonly offset: string };

export type CommitOutcome =
  /** The group rebalanced after the take step: nothing was committed. */
  | { readonly kind: 'fenced'; readonly flushGeneration: number; readonly current: number }
  /** Every taken offset of a partition still ours was committed already. */
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'committed'; readonly offsets: readonly OffsetCommit[] };

/** One worker's consumed and committed offsets, fenced by the assignment's generation. */
export class OffsetLedger {
  readonly #consumed = new Map<number, string>();
  readonly #committed = new Map<number, string>();
  #partitions: readonly number[] = [];
  #generation = 0;

  /** Bumped by every assignment (each join of the group). */
  get generation(): number {
    return this.#generation;
  }

  /** The partitions of the current assignment, sorted. */
  get partitions(): readonly number[] {
    return this.#partitions;
  }

  /**
   * A new assignment: a new generation. Offsets of partitions this worker lost are not ours
   * to commit any more (their pending events are still flushed, and the new owner's replay
   * deduplicates them).
   */
  assign(partitions: readonly number[]): void {
    this.#generation++;
    this.#partitions = [...partitions].sort((a, b) => a - b);
    for (const p of this.#consumed.keys()) if (!partitions.includes(p)) this.#consumed.delete(p);
  }

  /** The message at `offset` of `partition` was taken in (pending, dead-lettered or done). */
  consumed(partition: number, offset: string): void {
    this.#consumed.set(partition, offset);
  }

  /** The take step: a copy of the last consumed offsets, with the current generation. */
  take(): TakenOffsets {
    return { generation: this.#generation, offsets: new Map(this.#consumed) };
  }

  /** True when a taken offset differs from what was last committed for its partition. */
  hasUncommitted(taken: TakenOffsets): boolean {
    for (const [p, o] of taken.offsets) if (this.#committed.get(p) !== o) return true;
    return false;
  }

  /** The last consumed offset committed for `partition` (not +1), if any. */
  committed(partition: number): string | undefined {
    return this.#committed.get(partition);
  }

  /**
   * Commit what `taken` holds, through `send`, once its rows are stored: refused when the
   * generation moved on; only partitions still assigned and not committed at that offset
   * yet. Rejects when `send` does (nothing is recorded as committed then).
   */
  async commit(taken: TakenOffsets, send: (offsets: readonly OffsetCommit[]) => Promise<void>): Promise<CommitOutcome> {
    if (taken.generation !== this.#generation) return { kind: 'fenced', flushGeneration: taken.generation, current: this.#generation };
    const changed = [...taken.offsets].filter(([p, o]) => this.#committed.get(p) !== o && this.#partitions.includes(p));
    if (changed.length === 0) return { kind: 'unchanged' };
    const offsets = changed.map(([partition, o]) => ({ partition, offset: (BigInt(o) + 1n).toString() }));
    await send(offsets);
    for (const [p, o] of changed) this.#committed.set(p, o);
    return { kind: 'committed', offsets };
  }
}
