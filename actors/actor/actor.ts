// The per-key actor: the unit that owns one partition key's recent history. Rule: events of
// one key are kept in arrival order, and an event is pending until the store confirms it.
import { identityOf, type KeyflowEvent } from '../event/index.ts';
import { DedupWindow } from './dedup-window.ts';

/** An event waiting for its flush, with whatever the host needs to commit it (`meta`). */
export type Pending<M> = { readonly key: string; readonly event: KeyflowEvent; readonly meta: M };

/** The live state of one actor, as `GET /v1/actors/:key` shows it. */
export type ActorSnapshot = {
  readonly key: string;
  readonly pendingEvents: number;
  readonly dedupWindowSize: number;
  readonly counts: { readonly received: number; readonly duplicates: number; readonly flushed: number };
  readonly createdAt: string;
  readonly lastActiveAt: string;
};

export type ActorOptions = { readonly dedupWindowEntries: number; readonly dedupWindowMs: number };

/** One partition key's actor: dedup window, pending events and counters. */
export class KeyActor<M> {
  readonly key: string;
  readonly #window: DedupWindow;
  #pending: Pending<M>[] = [];
  #received = 0;
  #duplicates = 0;
  #flushed = 0;
  readonly #createdAt: number;
  #lastActiveAt: number;

  constructor(key: string, options: ActorOptions, nowMs: number) {
    this.key = key;
    this.#window = new DedupWindow(options.dedupWindowEntries, options.dedupWindowMs);
    this.#createdAt = nowMs;
    this.#lastActiveAt = nowMs;
  }

  /** Take one event: 'accepted' when it is new to the window, else 'duplicate'. */
  offer(event: KeyflowEvent, meta: M, nowMs: number): 'accepted' | 'duplicate' {
    this.#received++;
    this.#lastActiveAt = nowMs;
    if (!this.#window.add(identityOf(event), nowMs)) {
      this.#duplicates++;
      return 'duplicate';
    }
    this.#pending.push({ key: this.key, event, meta });
    return 'accepted';
  }

  /** Count an event recognised as a duplicate elsewhere (the worker's passivated store). */
  countDuplicate(nowMs: number): void {
    this.#received++;
    this.#duplicates++;
    this.#lastActiveAt = nowMs;
  }

  /** The identities still inside this actor's window, with their expiry. */
  liveIdentities(nowMs: number): IterableIterator<[string, number]> {
    return this.#window.live(nowMs);
  }

  /** Hand over every pending event, in arrival order. */
  takePending(): Pending<M>[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** Count events the store confirmed. */
  markFlushed(n: number): void {
    this.#flushed += n;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Identities in this actor's dedup window. */
  get dedupEntries(): number {
    return this.#window.size;
  }

  get lastActiveAt(): number {
    return this.#lastActiveAt;
  }

  snapshot(): ActorSnapshot {
    return {
      key: this.key,
      pendingEvents: this.#pending.length,
      dedupWindowSize: this.#window.size,
      counts: { received: this.#received, duplicates: this.#duplicates, flushed: this.#flushed },
      createdAt: new Date(this.#createdAt).toISOString(),
      lastActiveAt: new Date(this.#lastActiveAt).toISOString(),
    };
  }
}
