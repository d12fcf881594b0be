// When and how long the client waits before trying a request again. Rule: only answers that
// promise a later success are retried — 408, 425, 429, 502, 503, 504 and network failures —
// with exponential backoff and full jitter, never sooner than the server's Retry-After.

export type BackoffOptions = {
  /** First delay's ceiling, ms (default 100). */
  readonly initialMs?: number;
  /** Largest delay, ms (default 10,000). */
  readonly maxMs?: number;
};

const RETRYABLE_STATUS = new Set([408, 425, 429, 502, 503, 504]);

/** Whether an HTTP status is worth a retry of the same request. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/**
 * The delay before retry number `attempt` (1 = the first retry): a random point in
 * [0, min(max, initial·2^(attempt−1))], raised to Retry-After when the server sent one.
 *
 * @example
 * await sleep(retryDelayMs(2, res.headers.get('retry-after')));
 */
export function retryDelayMs(attempt: number, retryAfter: string | null = null, o: BackoffOptions = {}, random: () => number = Math.random, nowMs = Date.now()): number {
  const initial = o.initialMs ?? 100;
  const max = o.maxMs ?? 10_000;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  const jittered = random() * ceiling;
  return Math.max(jittered, retryAfterMs(retryAfter, nowMs) ?? 0);
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Resolves after `ms`, or rejects early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
