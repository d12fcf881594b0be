// The worker's side of the live view: after each flush, add the events it really inserted
// to the per-minute counters and to the active-users set in Redis, and hand them to the
// event feed while an edge has listeners.
//
// Rule: Redis is a view, never a source of truth, and ingestion never waits for it for more
// than a moment. What this writer cannot guarantee it leaves evidence of, so that the
// reconciler (runtime/live/reconciler.ts) makes the view exact again:
// - closed minutes' counters are overwritten from rollups_minute by every reconcile round,
//   whatever happened here, and the seconds of the minutes the summary reads are rebuilt from
//   the store when their sum differs from it;
// - the active-users set cannot be re-derived cheaply, so a flush first records a token in
//   `live:inflight` and removes it in the same pipeline as its update. A token left behind
//   (the process died between the flush and its update, or the flush failed in an unknown
//   state) and a failed update (`live:rebuild`, written as soon as Redis answers again)
//   both make the reconciler rebuild the set from the store. The token names this writer,
//   which refreshes `live:alive:<writer>` every second: once that key expires (the process
//   died), its tokens are lost at once instead of after INFLIGHT_STALE_MS.
// Nothing ahead of the clock counts as live (DESIGN.md, Live): an event that occurs after the
// flush goes to `live:ahead`, not to the active-users set, until the reconciler sees its time
// come; its minute's and its second's counters are written as usual (a summary reads no second
// after its `at`, and a second's keys expire SECONDS_KEPT_MS after that second, not after the flush).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { encodeEvent, type KeyflowEvent } from '../../actors/index.ts';
import { LIVE_MINUTES, LIVE_TTL_SECONDS, MINUTE_MS, SECONDS_KEPT_MS, WRITER_ALIVE_MS, aheadMember, liveKeys, minuteOf, secondOf, type FeedItem } from '../live/keys.ts';

/** An event the flush inserted, with where it came from. */
export type InsertedEvent = { readonly event: KeyflowEvent; readonly partition: number; readonly offset: string };

/** How long a flush waits for its in-flight token before going on without it. */
const BEGIN_TIMEOUT_MS = 100;
/** Publishing goes on this long after the last demand an edge announced. */
const DEMAND_VALID_MS = 15_000;

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
};

/** Writes one worker's flushes into the live view. */
export class LiveWriter {
  readonly #redis: Redis;
  readonly #keys: ReturnType<typeof liveKeys>;
  readonly #onFailure: (e: unknown) => void;
  #dirty = false;
  #lastFlagAttempt = 0;
  #feedUntil = 0;
  #sub: Redis | undefined;
  readonly #writer = randomUUID();
  #lastAlive = 0;

  constructor(redis: Redis, prefix: string, onFailure: (e: unknown) => void = () => undefined) {
    this.#redis = redis;
    this.#keys = liveKeys(prefix);
    this.#onFailure = onFailure;
  }

  /** Listen for edges that have feed listeners (a second connection, in subscriber mode). */
  listenForDemand(): void {
    const sub = (this.#sub = this.#redis.duplicate({ lazyConnect: true }));
    sub.on('error', () => undefined);
    sub.on('message', () => {
      this.#feedUntil = Date.now() + DEMAND_VALID_MS;
    });
    // ioredis subscribes again by itself after a reconnect.
    sub.connect().then(() => sub.subscribe(this.#keys.demand)).catch(() => undefined);
  }

  /** True while some edge wants newly stored events. */
  get feedWanted(): boolean {
    return Date.now() < this.#feedUntil;
  }

  /** Before a flush: record it as in flight. Answers its token, or undefined if Redis did not take it. */
  async begin(): Promise<string | undefined> {
    const token = `${this.#writer}/${randomUUID()}`;
    try {
      const now = Date.now();
      const p = this.#redis.multi().zadd(this.#keys.inflight, now, token);
      // The alive key is always set before a token that names it.
      if (now - this.#lastAlive > 500) p.set(this.#keys.alive(this.#writer), '1', 'PX', WRITER_ALIVE_MS);
      await withTimeout(p.exec(), BEGIN_TIMEOUT_MS);
      if (now - this.#lastAlive > 500) this.#lastAlive = now;
      return token;
    } catch (e) {
      this.#fail(e);
      return undefined;
    }
  }

  /** After the flush committed: add what it inserted and clear its token. Never rejects. */
  async commit(token: string | undefined, inserted: readonly InsertedEvent[]): Promise<void> {
    const k = this.#keys;
    const now = Date.now();
    const p = this.#redis.pipeline();
    const minutes = new Map<number, { total: number; types: Map<string, number> }>();
    const seconds = new Map<number, { total: number; types: Map<string, number> }>();
    const count = (buckets: typeof minutes, start: number, type: string) => {
      let b = buckets.get(start);
      if (b === undefined) buckets.set(start, (b = { total: 0, types: new Map() }));
      b.total++;
      b.types.set(type, (b.types.get(type) ?? 0) + 1);
    };
    const newest = new Map<string, number>();
    const ahead: (string | number)[] = [];
    for (const { event } of inserted) {
      count(minutes, minuteOf(event.occurredAt), event.type);
      // A second older than the summary ever reads would expire at once.
      if (event.occurredAt > now - SECONDS_KEPT_MS + 1_000) count(seconds, secondOf(event.occurredAt), event.type);
      if (event.userId === undefined) continue;
      if (event.occurredAt > now) ahead.push(event.occurredAt, aheadMember(event.occurredAt, event.userId));
      else if (event.occurredAt > (newest.get(event.userId) ?? -Infinity)) newest.set(event.userId, event.occurredAt);
    }
    for (const [minute, m] of minutes) {
      const mk = k.minute(minute);
      p.incrby(mk.total, m.total).expire(mk.total, LIVE_TTL_SECONDS);
      for (const [type, n] of m.types) p.hincrby(mk.types, type, n);
      p.expire(mk.types, LIVE_TTL_SECONDS);
    }
    for (const [second, m] of seconds) {
      const sk = k.second(second);
      const until = Math.ceil((second + SECONDS_KEPT_MS) / 1_000);
      p.incrby(sk.total, m.total).expireat(sk.total, until);
      for (const [type, n] of m.types) p.hincrby(sk.types, type, n);
      p.expireat(sk.types, until);
    }
    if (newest.size > 0) p.zadd(k.active, 'GT', ...[...newest].flatMap(([user, ms]) => [ms, user]));
    if (ahead.length > 0) p.zadd(k.ahead, ...ahead);
    // Users whose newest event is older than the longest window (with a minute of clock slack) count nowhere.
    p.zremrangebyscore(k.active, '-inf', `(${now - (LIVE_MINUTES + 1) * MINUTE_MS}`);
    if (token !== undefined) p.zrem(k.inflight, token);
    const wasDirty = this.#dirty;
    if (wasDirty) p.set(k.rebuild, String(now));
    try {
      const results = await p.exec();
      const failed = results?.find(([err]) => err !== null);
      if (failed?.[0]) throw failed[0];
      if (wasDirty) this.#dirty = false;
    } catch (e) {
      this.#fail(e);
      return;
    }
    if (inserted.length > 0 && this.feedWanted) {
      const items: FeedItem[] = inserted.map(({ event, partition, offset }) => ({ partition, offset, event: JSON.parse(encodeEvent(event)) as Record<string, unknown> }));
      await this.#redis.publish(k.events, JSON.stringify(items)).catch(() => undefined);
    }
  }

  /** Between flushes: a failed update is reported as soon as Redis answers again. */
  tick(now = Date.now()): void {
    if (now - this.#lastAlive >= 1_000) {
      this.#lastAlive = now;
      this.#redis.set(this.#keys.alive(this.#writer), '1', 'PX', WRITER_ALIVE_MS).catch(() => undefined);
    }
    if (!this.#dirty || now - this.#lastFlagAttempt < 1_000) return;
    this.#lastFlagAttempt = now;
    this.#redis.set(this.#keys.rebuild, String(now)).then(
      () => {
        this.#dirty = false;
      },
      () => undefined,
    );
  }

  close(): void {
    this.#redis.del(this.#keys.alive(this.#writer)).catch(() => undefined);
    this.#sub?.disconnect();
  }

  #fail(e: unknown): void {
    this.#dirty = true;
    this.#onFailure(e);
  }
}
