// The flush loop of a worker. Rule: a flush takes, in one synchronous step, every pending
// event, every dead letter and the offsets to commit (OffsetLedger.take), so nothing taken
// in before that step is left out of it and nothing after it is counted in it. Then it
// stores them in one transaction and, only once that committed, settles them (commits the
// offsets, updates the live view).
//
// - A store that fails keeps its batch: the next attempt stores that same batch together
//   with whatever was taken in since, after an exponential backoff with jitter (capped at
//   5 s) — while backpressure holds consumption.
// - What an attempt holds is still pending: `pending` counts it until it is stored or kept
//   for the retry, so backpressure never sees a flush in progress as room to consume.
// - Flushes never overlap: a flush asked for during one shares its promise and runs once
//   more right after it (if something was taken in meanwhile), never twice.
// - A flush is due when the oldest work taken in is intervalMs old, when a failed batch's
//   retry time came, or (flushIfFull) when maxEvents or maxBytes are pending.
// - Bytes, not counts (DESIGN.md): `pendingBytes` counts what was taken in by its size on the
//   wire (an event's message value, a dead letter's kept bytes), the same way as `pending`,
//   so backpressure can pause on bytes as well as on events.
import { setTimeout as sleep } from 'node:timers/promises';
import { boundDeadLetter, type DeadLetterRow } from '../../db/index.ts';
import { backoffMs, type Backoff } from '../backoff.ts';
import type { OffsetLedger, TakenOffsets } from './offset-ledger.ts';

/** One flush's worth of work; `bytes` is what its entries and dead letters weigh (see pendingBytes). */
export type FlushBatch<E> = { readonly entries: readonly E[]; readonly deadLetters: readonly DeadLetterRow[]; readonly offsets: TakenOffsets; readonly bytes: number };

/** What a dead letter weighs while pending: its kept bytes and its texts, with room for the rest of the row. */
export function deadLetterBytes(row: DeadLetterRow): number {
  return 256 + (row.raw?.byteLength ?? 0) + (row.key?.byteLength ?? 0) + row.reason.length + 3 * row.error.length;
}

/** Where pending events wait until a flush takes them (the actor registry). */
export type PendingEvents<E> = { drain(): E[]; readonly pendingCount: number };

/** The retry that follows a failed store. */
export type RetryInfo = { readonly events: number; readonly failures: number; readonly retryInMs: number };

export type FlusherOptions<E, S> = {
  readonly events: PendingEvents<E>;
  readonly ledger: OffsetLedger;
  /** A flush is due this long after the first work it will take was taken in. */
  readonly intervalMs: number;
  /** flushIfFull flushes once this much is pending. */
  readonly maxEvents: number;
  /** …or once this many bytes are pending. */
  readonly maxBytes?: number;
  /** A dead letter keeps at most this many bytes of its raw value (with its full length and SHA-256). */
  readonly deadLetterMaxBytes: number;
  /** Store the batch's rows in one transaction; rejects when they were not stored (the batch is retried). */
  readonly store: (batch: FlushBatch<E>) => Promise<S>;
  /** After the rows are stored: commit the offsets, update the views. */
  readonly settle: (batch: FlushBatch<E>, stored: S) => Promise<void>;
  /** Told of each failed store, with the retry it will get. */
  readonly onRetry?: (error: unknown, retry: RetryInfo) => void;
  /** Told when a flush (with the flushes asked for during it) stored everything it took. */
  readonly afterFlush?: () => void;
  /** Retry delays; by default 100 ms doubling up to 5 s. */
  readonly backoff?: Backoff;
  readonly now?: () => number;
  readonly random?: () => number;
};

/** Retries of a failed flush start around 100–200 ms and stay under 5 s. */
const FLUSH_BACKOFF: Backoff = { baseMs: 100, maxMs: 5_000 };

/** Batches a worker's pending events, dead letters and offsets into flushes. */
export class Flusher<E, S = unknown> {
  readonly #o: FlusherOptions<E, S>;
  readonly #now: () => number;
  #deadLetters: DeadLetterRow[] = [];
  /** Bytes taken in (events given to `added`, dead letters) and not yet taken by a flush. */
  #freshBytes = 0;
  /** Bytes of the attempt under way. */
  #inFlightBytes = 0;
  /** When the oldest work not yet taken by a flush was taken in. */
  #dirtySince: number | undefined;
  #retry: FlushBatch<E> | undefined;
  #retryAt = 0;
  #failures = 0;
  /** Events and dead letters in the attempt under way: still held, so still pending. */
  #inFlight = 0;
  #flushing: Promise<void> | undefined;
  #flushAgain = false;

  constructor(options: FlusherOptions<E, S>) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The message at `offset` was taken in: its offset is committed by the next flush. */
  consumed(partition: number, offset: string): void {
    this.#o.ledger.consumed(partition, offset);
    this.#dirtySince ??= this.#now();
  }

  /**
   * A dead letter for the next flush (its message's offset is given to `consumed`). Its raw
   * value is cut to deadLetterMaxBytes here, so a pending dead letter holds no more; a row
   * covering a range of offsets says its last one in `lastOffset`.
   */
  deadLetter(row: DeadLetterRow): void {
    const bounded = boundDeadLetter(row, this.#o.deadLetterMaxBytes);
    this.#deadLetters.push(bounded);
    this.#freshBytes += deadLetterBytes(bounded);
  }

  /** An event of `bytes` was handed to the pending events (counted in pendingBytes until stored). */
  added(bytes: number): void {
    this.#freshBytes += bytes;
  }

  /** Bytes of the events and dead letters taken in and not yet stored, the attempt under way included. */
  get pendingBytes(): number {
    return this.#freshBytes + (this.#retry?.bytes ?? 0) + this.#inFlightBytes;
  }

  /** Events and dead letters taken in and not yet stored, the attempt under way included. */
  get pending(): number {
    const retry = this.#retry === undefined ? 0 : this.#retry.entries.length + this.#retry.deadLetters.length;
    return this.#o.events.pendingCount + this.#deadLetters.length + retry + this.#inFlight;
  }

  /** True when every event and dead letter taken in is stored (offsets may still be uncommitted). */
  get allStored(): boolean {
    return this.#retry === undefined && this.#o.events.pendingCount === 0 && this.#deadLetters.length === 0 && this.#inFlight === 0;
  }

  /** True when nothing waits for a retry and nothing was taken in since the last flush. */
  get settled(): boolean {
    return this.#retry === undefined && this.#dirtySince === undefined;
  }

  /** Events of the batch waiting for its retry; undefined when no batch waits. */
  get retryEvents(): number | undefined {
    return this.#retry?.entries.length;
  }

  /** True while a flush runs. */
  get flushing(): boolean {
    return this.#flushing !== undefined;
  }

  /** Flush when one is due (age of the oldest work, or a retry's time), unless one runs. */
  tick(now = this.#now()): void {
    const due = this.#dirtySince !== undefined && now - this.#dirtySince >= this.#o.intervalMs;
    const retryDue = this.#retry !== undefined && now >= this.#retryAt;
    if ((due || retryDue) && this.#flushing === undefined) void this.flush();
  }

  /** Flush when maxEvents or more, or maxBytes or more, are pending. */
  flushIfFull(): void {
    if (this.pending >= this.#o.maxEvents || this.pendingBytes >= (this.#o.maxBytes ?? Infinity)) void this.flush();
  }

  /** Flush everything pending now; concurrent calls share one flush loop. Never rejects on a failed store. */
  flush(): Promise<void> {
    if (this.#flushing !== undefined) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    this.#flushing = this.#flushLoop().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /**
   * Flush until everything taken in is stored or `signal` aborts, waiting for each retry's
   * time in between. Resolves either way; `settled` says which.
   */
  async drain(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.flush();
      if (this.settled) return;
      await sleep(Math.max(0, this.#retryAt - this.#now()), undefined, { signal }).catch((e: unknown) => {
        if (!signal.aborted) throw e;
      });
    }
  }

  async #flushLoop(): Promise<void> {
    do {
      this.#flushAgain = false;
      if (!(await this.#flushOnce())) return;
    } while (this.#flushAgain && this.#dirtySince !== undefined);
    this.#o.afterFlush?.();
  }

  /** One flush attempt; false when the store failed and the batch was kept for a retry. */
  async #flushOnce(): Promise<boolean> {
    // The one synchronous step of the module rule: take events, dead letters and offsets together.
    const fresh = this.#o.events.drain();
    const deadLetters = this.#deadLetters;
    this.#deadLetters = [];
    const offsets = this.#o.ledger.take();
    const freshBytes = this.#freshBytes;
    this.#freshBytes = 0;
    this.#dirtySince = undefined;
    const previous = this.#retry;
    this.#retry = undefined;
    const batch: FlushBatch<E> = previous
      ? { entries: previous.entries.concat(fresh), deadLetters: previous.deadLetters.concat(deadLetters), offsets, bytes: previous.bytes + freshBytes }
      : { entries: fresh, deadLetters, offsets, bytes: freshBytes };
    if (batch.entries.length === 0 && batch.deadLetters.length === 0 && !this.#o.ledger.hasUncommitted(offsets)) return true;
    this.#inFlight = batch.entries.length + batch.deadLetters.length;
    this.#inFlightBytes = batch.bytes;
    let stored: S;
    try {
      stored = await this.#o.store(batch);
    } catch (e) {
      this.#failures++;
      this.#retry = batch;
      const retryInMs = backoffMs(this.#failures + 1, this.#o.backoff ?? FLUSH_BACKOFF, this.#o.random);
      this.#retryAt = this.#now() + retryInMs;
      this.#o.onRetry?.(e, { events: batch.entries.length, failures: this.#failures, retryInMs });
      return false;
    } finally {
      this.#inFlight = 0; // stored, or kept in #retry
      this.#inFlightBytes = 0;
    }
    this.#failures = 0;
    await this.#o.settle(batch, stored);
    return true;
  }
}
