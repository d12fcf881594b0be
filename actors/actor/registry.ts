// The actors of one worker, by key. Rule: an actor is created at its key's first event and
// is never dropped while it has a pending event. Passivation — after actorIdleMs idle, or
// least recently used first while more than maxActors are live — hands the actor's live
// dedup entries to one worker-wide store (bounded by coldDedupEntries, each entry keeping
// its own expiry) that every offer consults, so a passivated key still recognises a resend
// inside its window. Memory stays bounded by construction: live actors by maxActors, their
// dedup entries by maxDedupEntries across the worker (over it, least recently used actors
// without pending events are passivated), the passivated ones by coldDedupEntries.
import { identityOf, type KeyflowEvent } from '../event/index.ts';
import { KeyActor, type ActorOptions, type ActorSnapshot, type Pending } from './actor.ts';
import { DedupWindow } from './dedup-window.ts';

export type RegistryOptions = ActorOptions & {
  readonly actorIdleMs: number;
  readonly maxActors: number;
  /** Dedup entries kept for passivated actors, across the worker (default 100,000). */
  readonly coldDedupEntries?: number;
  /** Dedup entries of the live actors, across the worker, past which passivate() lets actors go (default: no limit). */
  readonly maxDedupEntries?: number;
};

/** Every live actor of one worker, in least-recently-used order. */
export class ActorRegistry<M> {
  readonly #options: RegistryOptions;
  // Map order is recency order: an actor is re-inserted each time it is touched.
  readonly #actors = new Map<string, KeyActor<M>>();
  readonly #cold: DedupWindow;
  #pending = 0;
  #oldestPendingAt: number | undefined;
  // An upper bound of the live actors' dedup entries: the last exact count plus the events
  // accepted since (each adds at most one), so passivate() walks the actors to count them only
  // when the bound is over maxDedupEntries, not on every tick.
  #entriesAtMost = 0;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#cold = new DedupWindow(options.coldDedupEntries ?? 100_000, options.dedupWindowMs);
  }

  /**
   * Route one event to the actor of `key`, creating it on first use.
   *
   * @example
   * const r = new ActorRegistry<number>({ dedupWindowEntries: 10, dedupWindowMs: 60_000, actorIdleMs: 1000, maxActors: 100 });
   * r.offer('u1', event, 0, Date.now()); // 'accepted'
   */
  offer(key: string, event: KeyflowEvent, meta: M, nowMs: number): 'accepted' | 'duplicate' {
    let actor = this.#actors.get(key);
    if (actor === undefined) actor = new KeyActor<M>(key, this.#options, nowMs);
    else this.#actors.delete(key);
    this.#actors.set(key, actor);
    if (this.#cold.size > 0 && this.#cold.has(identityOf(event), nowMs)) {
      actor.countDuplicate(nowMs);
      return 'duplicate';
    }
    const outcome = actor.offer(event, meta, nowMs);
    if (outcome === 'accepted') {
      if (this.#pending === 0) this.#oldestPendingAt = nowMs;
      this.#pending++;
      this.#entriesAtMost++;
    }
    return outcome;
  }

  /** Take every pending event of every actor; per key, in arrival order. */
  drain(): Pending<M>[] {
    const out: Pending<M>[] = [];
    for (const actor of this.#actors.values()) {
      if (actor.pendingCount > 0) for (const p of actor.takePending()) out.push(p);
    }
    this.#pending = 0;
    this.#oldestPendingAt = undefined;
    return out;
  }

  /** Credit the actors whose events the store confirmed. */
  markFlushed(flushed: readonly Pending<M>[]): void {
    const perKey = new Map<string, number>();
    for (const p of flushed) perKey.set(p.key, (perKey.get(p.key) ?? 0) + 1);
    for (const [key, n] of perKey) this.#actors.get(key)?.markFlushed(n);
  }

  /**
   * Passivate actors without pending events that were idle for actorIdleMs, and, while more
   * than maxActors are live or their dedup entries are more than maxDedupEntries, the least
   * recently used ones. Returns how many were dropped.
   */
  passivate(nowMs: number): number {
    let dropped = 0;
    let over = this.#actors.size - this.#options.maxActors;
    const maxEntries = this.#options.maxDedupEntries ?? Infinity;
    const counted = this.#entriesAtMost > maxEntries;
    let entries = counted ? this.dedupEntries : 0;
    for (const [key, actor] of this.#actors) {
      const idle = nowMs - actor.lastActiveAt >= this.#options.actorIdleMs;
      if (!idle && over <= 0 && entries <= maxEntries) break;
      if (actor.pendingCount > 0) continue;
      for (const [identity, until] of actor.liveIdentities(nowMs)) this.#cold.keepUntil(identity, until);
      entries -= actor.dedupEntries;
      this.#actors.delete(key);
      dropped++;
      over--;
    }
    if (counted) this.#entriesAtMost = entries;
    this.#cold.expire(nowMs);
    return dropped;
  }

  /** Dedup entries held by the live actors (expired ones not yet swept included). */
  get dedupEntries(): number {
    let n = 0;
    for (const actor of this.#actors.values()) n += actor.dedupEntries;
    return n;
  }

  /**
   * Forget the key's actor and the given identities (an erasure): its live state and dedup
   * entries go, the passivated store's entries too, so an erased event sent again is new
   * data. Refused while the actor has pending events — the caller flushes them first.
   */
  forget(key: string, identities: Iterable<string>): void {
    const actor = this.#actors.get(key);
    if (actor !== undefined && actor.pendingCount > 0) throw new Error(`forget(${key}): the actor still has ${actor.pendingCount} pending events`);
    this.#actors.delete(key);
    for (const identity of identities) this.#cold.delete(identity);
  }

  /** Dedup entries held for passivated actors. */
  get passivatedDedupEntries(): number {
    return this.#cold.size;
  }

  /** The live state of the actor of `key`, if one is live. */
  snapshot(key: string): ActorSnapshot | undefined {
    return this.#actors.get(key)?.snapshot();
  }

  get pendingCount(): number {
    return this.#pending;
  }

  /** When the oldest pending event arrived, if any is pending. */
  get oldestPendingAt(): number | undefined {
    return this.#oldestPendingAt;
  }

  get size(): number {
    return this.#actors.size;
  }
}
