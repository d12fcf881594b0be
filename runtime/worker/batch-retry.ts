// The retry of a fetched batch whose processing threw (DESIGN.md, "No silent stop"). Rule: a
// batch that throws is processed again from its first unresolved message, after a backoff
// (KEYFLOW_BATCH_RETRY_BASE_MS, doubling, capped at 30 s) during which the worker keeps
// heartbeating, so it keeps its assignment; a rebalance or a stop ends the wait and leaves the
// rest unresolved, to be fetched again by whoever owns the partition then. After 5 failed
// attempts the batch's remaining messages become ONE dead letter (reason `batch-failed`: the
// first one's key and raw bytes (the flusher keeps KEYFLOW_DEAD_LETTER_MAX_BYTES of them), its offset, and "offsets F–L (N
// messages)" in the error) and their offsets are resolved — committed by the flush that
// stores that dead letter, never before — so the partition moves on.
//
// Errors of kafkajs itself (KafkaJS*, a rebalance) are not the batch's fault: they go on to
// kafkajs, and a consumer it gives up on is restarted by ./consumer-restart.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { FailBatchSwitch } from '../config/index.ts';
import { backoffMs } from '../backoff.ts';

/** Attempts of one batch before its remaining messages are dead-lettered. */
export const BATCH_MAX_ATTEMPTS = 5;
/** The longest wait between two attempts. */
export const BATCH_RETRY_MAX_MS = 30_000;
/** The longest the retry wait goes without a heartbeat (kafkajs sends one at most every heartbeatInterval). */
const HEARTBEAT_SLICE_MS = 1_000;

/** The part of a fetched batch one attempt processes. */
export type BatchView = { readonly topic: string; readonly partition: number; readonly messages: readonly KafkaMessage[] };

/** What a `batch-failed` dead letter holds. */
export type BatchDeadLetter = {
  readonly topic: string;
  readonly partition: number;
  /** The first remaining message's offset. */
  readonly offset: string;
  readonly lastOffset: string;
  readonly messages: number;
  readonly key: Buffer | null;
  readonly raw: Buffer | null;
  readonly reason: 'batch-failed';
  readonly error: string;
};

/** KEYFLOW_TEST_FAIL_BATCH made this batch fail (test profile only). */
export class InjectedBatchFailure extends Error {
  override readonly name = 'InjectedBatchFailure';
  readonly code = 'KEYFLOW_TEST_FAIL_BATCH';
}

export type BatchRetryOptions = {
  /** The first retry waits about this long; each next one twice as long, up to maxMs. */
  readonly baseMs: number;
  readonly maxMs?: number;
  readonly maxAttempts?: number;
  /** False once the worker drains or stops: the batch is left unresolved. */
  readonly live: () => boolean;
  /** Told before a rebalance error leaves (the worker flushes and commits first). */
  readonly onRebalancing: () => Promise<void>;
  /** Told of each failed attempt that will be retried. */
  readonly onRetry: (error: unknown, attempt: number, waitMs: number) => void;
  /** Store the dead letter with the next flush; its messages' offsets up to lastOffset are committed after it. */
  readonly deadLetter: (letter: BatchDeadLetter) => void;
  /** Told of records after the batch's last message that no handler sees (transaction markers, aborted records): up to `offset`. */
  readonly skipped?: (offset: string) => void;
  /** TEST ONLY: the batch holding this offset fails on every attempt. */
  readonly failSwitch?: FailBatchSwitch | undefined;
};

/** kafkajs signals a rebalance in progress through the heartbeat. */
export const isRebalancing = (e: unknown): boolean => (e as { type?: unknown } | null)?.type === 'REBALANCE_IN_PROGRESS';

/** An error of kafkajs (its own classes, a rebalance): for kafkajs to handle, not a failed batch. */
const isKafkaError = (e: unknown): boolean => isRebalancing(e) || (e instanceof Error && e.name.startsWith('KafkaJS'));

/**
 * Process a fetched batch through `process`, retrying what is left of it when it throws (the
 * module rule).
 *
 * @example
 * eachBatch: (payload) => processWithRetry(payload, (view, resolve) => handle(view, resolve), options)
 */
export async function processWithRetry(payload: EachBatchPayload, process: (view: BatchView, resolveOffset: (offset: string) => void) => Promise<void>, o: BatchRetryOptions): Promise<void> {
  const { batch } = payload;
  let resolved: bigint | undefined;
  const resolveOffset = (offset: string): void => {
    resolved = BigInt(offset);
    payload.resolveOffset(offset);
  };
  const remaining = (): KafkaMessage[] => (resolved === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) > resolved!));
  const live = (): boolean => o.live() && payload.isRunning() && !payload.isStale();
  const maxAttempts = o.maxAttempts ?? BATCH_MAX_ATTEMPTS;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const messages = remaining();
    if (messages.length === 0 || !live()) return;
    try {
      await attemptOnce({ topic: batch.topic, partition: batch.partition, messages }, process, resolveOffset, o.failSwitch);
      // Transaction markers (or aborted records) after the last message: taken in with it.
      const last = batch.messages.at(-1);
      const tail = typeof batch.lastOffset === 'function' ? batch.lastOffset() : undefined;
      if (last !== undefined && tail !== undefined && resolved === BigInt(last.offset) && BigInt(tail) > resolved) {
        o.skipped?.(tail);
        resolveOffset(tail);
      }
      return;
    } catch (e) {
      if (isKafkaError(e)) throw e;
      lastError = e;
    }
    if (attempt === maxAttempts) break;
    const waitMs = backoffMs(attempt, { baseMs: o.baseMs, maxMs: o.maxMs ?? BATCH_RETRY_MAX_MS });
    o.onRetry(lastError, attempt, waitMs);
    if (!(await waitHeartbeating(waitMs, payload, live, o.onRebalancing))) return;
  }
  const left = remaining();
  const first = left[0];
  const last = left.at(-1);
  if (first === undefined || last === undefined || !live()) return;
  const message = lastError instanceof Error ? lastError.message : String(lastError);
  o.deadLetter({
    topic: batch.topic,
    partition: batch.partition,
    offset: first.offset,
    lastOffset: last.offset,
    messages: left.length,
    key: first.key ?? null,
    raw: first.value,
    reason: 'batch-failed',
    error: `processing failed ${maxAttempts} times (last: ${message.slice(0, 500)}); offsets ${first.offset}–${last.offset} (${left.length} messages)`,
  });
  resolveOffset(last.offset);
}

/** One attempt; with the test switch on this batch, what precedes its offset is processed and the rest fails. */
async function attemptOnce(view: BatchView, process: (view: BatchView, resolveOffset: (offset: string) => void) => Promise<void>, resolveOffset: (offset: string) => void, failSwitch: FailBatchSwitch | undefined): Promise<void> {
  const at = failSwitch !== undefined && failSwitch.partition === view.partition ? view.messages.findIndex((m) => m.offset === failSwitch.offset) : -1;
  if (at < 0) return process(view, resolveOffset);
  let done = at === 0;
  if (at > 0) {
    const before = view.messages.slice(0, at);
    const lastBefore = before.at(-1)!.offset;
    await process({ ...view, messages: before }, (offset) => {
      resolveOffset(offset);
      if (offset === lastBefore) done = true;
    });
  }
  // Processing stopped early (backpressure, a drain): the rest is fetched again, no failure yet.
  if (done) throw new InjectedBatchFailure(`KEYFLOW_TEST_FAIL_BATCH: the batch holding offset ${failSwitch!.offset} of partition ${view.partition} fails on purpose`);
}

/** Wait `ms`, heartbeating; false when the wait ended early (not live, a rebalance). */
async function waitHeartbeating(ms: number, payload: EachBatchPayload, live: () => boolean, onRebalancing: () => Promise<void>): Promise<boolean> {
  const until = Date.now() + ms;
  for (let left = ms; left > 0; left = until - Date.now()) {
    await sleep(Math.min(HEARTBEAT_SLICE_MS, left));
    if (!live()) return false;
    try {
      await payload.heartbeat();
    } catch (e) {
      if (isRebalancing(e)) await onRebalancing();
      throw e;
    }
  }
  return true;
}
