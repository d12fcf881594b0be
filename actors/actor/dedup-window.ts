// A bounded memory of recently seen event identities. Rule: it holds at most `capacity`
// identities, each for at most `ttlMs` (entries handed over with keepUntil keep their own
// expiry, and the lazy sweep may keep an expired one a little longer — `has` checks it); it is only a fast path — the store's primary key is
// what makes a duplicate harmless, so forgetting an identity early costs a write, not a count.

/** A count- and time-bounded set of identities, oldest evicted first. */
export class DedupWindow {
  readonly #capacity: number;
  readonly #ttlMs: number;
  // Insertion order is expiry order, because every entry lives exactly ttlMs.
  readonly #expiresAt = new Map<string, number>();

  constructor(capacity: number, ttlMs: number) {
    this.#capacity = capacity;
    this.#ttlMs = ttlMs;
  }

  /**
   * Record `identity` as seen at `nowMs`; answers false when it was already inside the window.
   *
   * @example
   * const w = new DedupWindow(2, 1000);
   * w.add('a', 0); // true
   * w.add('a', 10); // false
   */
  add(identity: string, nowMs: number): boolean {
    this.expire(nowMs);
    if (this.#capacity === 0) return true;
    if (this.#expiresAt.has(identity)) return false;
    if (this.#expiresAt.size >= this.#capacity) {
      const oldest = this.#expiresAt.keys().next();
      if (!oldest.done) this.#expiresAt.delete(oldest.value);
    }
    this.#expiresAt.set(identity, nowMs + this.#ttlMs);
    return true;
  }

  /** True when `identity` is remembered and its time is not up. */
  has(identity: string, nowMs: number): boolean {
    const until = this.#expiresAt.get(identity);
    return until !== undefined && until > nowMs;
  }

  /**
   * Remember `identity` until `expiresAtMs` (used to hand entries from one window to
   * another without extending their life). Evicts the oldest-inserted entry when full.
   */
  keepUntil(identity: string, expiresAtMs: number): void {
    if (this.#capacity === 0) return;
    this.#expiresAt.delete(identity);
    if (this.#expiresAt.size >= this.#capacity) {
      const oldest = this.#expiresAt.keys().next();
      if (!oldest.done) this.#expiresAt.delete(oldest.value);
    }
    this.#expiresAt.set(identity, expiresAtMs);
  }

  /** Forget `identity` now (an erasure): a later resend of it is new. */
  delete(identity: string): void {
    this.#expiresAt.delete(identity);
  }

  /** The live entries with their expiry. */
  *live(nowMs: number): IterableIterator<[identity: string, expiresAtMs: number]> {
    for (const entry of this.#expiresAt) if (entry[1] > nowMs) yield entry;
  }

  /** Forget identities whose time is up. */
  expire(nowMs: number): void {
    for (const [identity, expiresAt] of this.#expiresAt) {
      if (expiresAt > nowMs) break;
      this.#expiresAt.delete(identity);
    }
  }

  /** How many identities are remembered now. */
  get size(): number {
    return this.#expiresAt.size;
  }
}
