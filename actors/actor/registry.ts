// The actors of one worker, by key. Rule: an actor is created at its key's first event and
// is never dropped while it has a pending event. An idle actor is passivated once quiescent
// (no live dedup entry either); above maxActors, the least recently used actors without
// pending events go first, even with live dedup entries — the store's primary key still
// catches those duplicates, so memory stays bounded without losing or double-counting.
import type { KeyflowEvent } from '../event/index.ts';
import { KeyActor, type ActorOptions, type ActorSnapshot, type Pending } from './actor.ts';

export type RegistryOptions = ActorOptions & { readonly actorIdleMs: number; readonly maxActors: number };

/** Every live actor of one worker, in least-recently-used order. */
export class ActorRegistry<M> {
  readonly #options: RegistryOptions;
  // Map order is recency order: an actor is re-inserted each time it is touched.
  readonly #actors = new Map<string, KeyActor<M>>();
  #pending = 0;
  #oldestPendingAt: number | undefined;

  constructor(options: RegistryOptions) {
    this.#options = options;
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
    const outcome = actor.offer(event, meta, nowMs);
    if (outcome === 'accepted') {
      if (this.#pending === 0) this.#oldestPendingAt = nowMs;
      this.#pending++;
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
   * Drop quiescent actors idle for longer than actorIdleMs, and, while more than maxActors
   * are live, actors without pending events in least-recently-used order. Returns how many
   * were dropped.
   */
  passivate(nowMs: number): number {
    let dropped = 0;
    let over = this.#actors.size - this.#options.maxActors;
    for (const [key, actor] of this.#actors) {
      const idle = nowMs - actor.lastActiveAt >= this.#options.actorIdleMs;
      if (!idle && over <= 0) break;
      if (over > 0 ? actor.pendingCount === 0 : actor.isQuiescent(nowMs)) {
        this.#actors.delete(key);
        dropped++;
        over--;
      }
    }
    return dropped;
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
