// The one retry delay of keyflow's servers: exponential, capped, with jitter. Rule: the n-th
// retry (n from 1) waits a random time in [½, 1) × min(maxMs, baseMs × 2^(n−1)), so retries of
// many workers spread out instead of arriving together, and no wait exceeds maxMs. (The
// client, which must run without keyflow's code, has its own full-jitter rule honouring
// Retry-After: http/client/retry.ts.)

export type Backoff = {
  /** The first retry's ceiling, in ms. */
  readonly baseMs: number;
  /** The longest wait, in ms. */
  readonly maxMs: number;
};

/**
 * How long to wait before retry number `attempt` (1 for the first retry).
 *
 * @example
 * await sleep(backoffMs(attempt, { baseMs: 20, maxMs: 1_000 }));
 */
export function backoffMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return ceiling * (0.5 + random() / 2);
}
