// One worker's actors behind a small surface that any host can expose: a Web Worker (Deno,
// a browser) with comlink, or plain calls in-process. Rule: every answer is plain data that
// survives a structured clone, and an invalid event is an answer, never an exception.
import { ActorRegistry, type ActorSnapshot, type RegistryOptions } from '../actor/index.ts';
import { validateEvent, type FieldError, type KeyflowEvent } from '../event/index.ts';

/** What became of one offered event. */
export type OfferOutcome = 'accepted' | 'duplicate' | { readonly rejected: readonly FieldError[] };

/** A pending event as the host hands it over, with the key of the actor that took it. */
export type HostedEvent = { readonly key: string; readonly event: KeyflowEvent };

/** The host's live totals. */
export type HostStats = {
  readonly liveActors: number;
  readonly pendingEvents: number;
  /** When the oldest pending event arrived (RFC 3339), or null when nothing is pending. */
  readonly oldestPendingAt: string | null;
  /** Events refused by the schema since the host started. */
  readonly rejected: number;
};

export interface ActorHost {
  /** Validate `input` and route it to the actor of `key`. */
  offer(key: string, input: unknown): OfferOutcome;
  /** Take every pending event (per key, in arrival order), then passivate what may go. */
  drain(): HostedEvent[];
  /** Credit the actors whose drained events the store confirmed. */
  markFlushed(flushed: readonly HostedEvent[]): void;
  /** The live state of the actor of `key`, if one is live. */
  snapshot(key: string): ActorSnapshot | undefined;
  stats(): HostStats;
}

export type ActorHostOptions = RegistryOptions & {
  /** The clock, in epoch milliseconds; tests pass their own. */
  readonly now?: () => number;
};

/**
 * Build an actor host on an ActorRegistry.
 *
 * @example
 * const host = createActorHost({ dedupWindowEntries: 1000, dedupWindowMs: 60_000, actorIdleMs: 30_000, maxActors: 10_000 });
 * host.offer('u-42', { id: 'e1', type: 'ad.click', source: 'tiktok', occurredAt: 0, userId: 'u-42' }); // 'accepted'
 * host.drain(); // [{ key: 'u-42', event: { id: 'e1', … } }]
 */
export function createActorHost(options: ActorHostOptions): ActorHost {
  const { now = Date.now, ...registryOptions } = options;
  // The host has no store of its own, so the registry's per-event metadata is empty.
  const registry = new ActorRegistry<null>(registryOptions);
  let rejected = 0;
  return {
    offer(key, input) {
      const v = validateEvent(input);
      if (!v.ok) {
        rejected++;
        return { rejected: v.errors };
      }
      return registry.offer(key, v.event, null, now());
    },
    drain() {
      const out = registry.drain().map(({ key, event }) => ({ key, event }));
      // Draining is the host's tick: with nothing pending, idle actors and those above
      // maxActors can go without losing an event.
      registry.passivate(now());
      return out;
    },
    markFlushed(flushed) {
      registry.markFlushed(flushed.map(({ key, event }) => ({ key, event, meta: null })));
    },
    snapshot: (key) => registry.snapshot(key),
    stats() {
      const oldest = registry.oldestPendingAt;
      return {
        liveActors: registry.size,
        pendingEvents: registry.pendingCount,
        oldestPendingAt: oldest === undefined ? null : new Date(oldest).toISOString(),
        rejected,
      };
    },
  };
}
