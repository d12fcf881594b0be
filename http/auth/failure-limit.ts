// Failed authentications are rate-limited per client address, so an API key cannot be
// guessed at the speed of the network. Rule: each address has a bucket of `perMinute` failures
// refilled continuously; a request from an address whose bucket is empty is a 429 with
// Retry-After before its key is even looked at (else the 429/200 difference would still
// answer each guess). Memory is bounded: at most `maxAddresses` buckets, the least recently
// touched one forgotten first (a forgotten address starts with a full bucket).

export type FailureLimitOptions = {
  /** Failures an address may make per minute (and in a burst). */
  readonly perMinute: number;
  /** Most addresses remembered (default 10,000, about 1 MiB). */
  readonly maxAddresses?: number;
  readonly now?: () => number;
};

type Bucket = { tokens: number; at: number };

/** Per-address buckets of failed authentications, in this process. */
export class AuthFailureLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: FailureLimitOptions) {
    this.#burst = o.perMinute;
    this.#perMs = o.perMinute / 60_000;
    this.#max = o.maxAddresses ?? 10_000;
    this.#now = o.now ?? Date.now;
  }

  /** Seconds until `address` may try again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const b = this.#refilled(address);
    if (b === undefined || b.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000));
  }

  /** Count one failed authentication of `address`. */
  fail(address: string): void {
    const b = this.#refilled(address) ?? { tokens: this.#burst, at: this.#now() };
    b.tokens = Math.max(0, b.tokens - 1);
    // Re-inserted: the Map's order is least recently touched first.
    this.#buckets.delete(address);
    this.#buckets.set(address, b);
    while (this.#buckets.size > this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }

  #refilled(address: string): Bucket | undefined {
    const b = this.#buckets.get(address);
    if (b === undefined) return undefined;
    const now = this.#now();
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
    b.at = now;
    if (b.tokens >= this.#burst) {
      this.#buckets.delete(address);
      return undefined;
    }
    return b;
  }
}
