// The reconciler: makes the live view in Redis exact again, whatever happened to it.
//
// Rule: every closed minute of the live window ([floor(now) − 30 min, floor(now))) ends up
// equal to rollups_minute, and the active-users set equal to the store's newest occurredAt
// per user, within one round after the store and Redis are both reachable. Each round (every
// KEYFLOW_LIVE_RECONCILE_MS, in one process of the deployment at a time, chosen by a Redis
// lock) does:
// 1. Counts: one grouped query over rollups_minute for the window; every closed minute whose
//    Redis total or per-type counts differ is replaced in one MULTI (a minute the store has
//    no events for is deleted). This repairs a crash between a flush and its Redis update, a
//    Redis restart or flush, an outage, and erasures (the rollups lose the user's rows).
//    A flush racing a round can leave a minute off by its own delta; the next round, which
//    reads the store after that flush committed, repairs it — hence "within a few seconds".
// 1b. Seconds: the closed minutes the summary may read in part (the last SECONDS_MINUTES)
//    have per-second counters too; a minute whose seconds do not add up to the store's
//    counts of that minute (Redis lost them, a flush raced a rebuild, an erasure) gets its
//    seconds rebuilt from `events` (one range scan) in one MULTI. The open minute cannot be
//    checked against a store that flushes are still adding to: when Redis may have lost its
//    seconds (any reason to rebuild the active set below) or an erasure took a user out,
//    `live:s:pending` names it, and it is rebuilt from `events` in a round that finds no
//    flush in flight (WATCHing live:inflight, so a flush that begins meanwhile discards it);
//    once the minute closes, the check above takes over.
// 2. Active users: rebuilt from `events` (users with an event in the last 31 minutes and
//    their newest occurredAt, merged with ZADD GT so a concurrent flush is never undone)
//    only when Redis says it may be wrong: the `built` marker is missing or names another
//    Redis run (Redis restarted or lost its data), a worker flagged a failed update, or a
//    flush's in-flight token belongs to a writer whose alive key expired (its process died)
//    or is older than INFLIGHT_STALE_MS. The merge
//    is a WATCHed transaction: an erasure or a new failure flag since the store was read
//    discards it, and the next round rebuilds again.
// 3. Nothing ahead of the clock is live (DESIGN.md, Live): events that were ahead when flushed
//    wait in live:ahead; each round moves those whose time has come into the active set. What
//    an earlier version put in the set beyond now + KEYFLOW_MAX_FUTURE (year 9999, active
//    forever) is dropped, and the set rebuilt, by the first round of a process (and any later
//    one that finds such an entry). The store keeps such events; reports count them as ever.
// The request path never reads PostgreSQL: only this does.
import type { Redis } from 'ioredis';
import { liveMinuteCounts, liveSecondCounts, usersActiveSince, usersAhead, type LiveSecondCounts, type Sql } from '../../db/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import { INFLIGHT_STALE_MS, LIVE_MINUTES, LIVE_TTL_SECONDS, MINUTE_MS, SECONDS_KEPT_MS, SECONDS_MINUTES, aheadMember, aheadUser, liveKeys, minuteOf, secondsOfMinute, writerOf } from './keys.ts';

export type ReconcilerOptions = {
  readonly sql: Sql;
  /** A connection of its own: the rebuild WATCHes keys, which is per connection. */
  readonly redis: Redis;
  readonly prefix: string;
  readonly intervalMs: number;
  readonly log: Logger;
  /** Told the outcome of every round that ran. */
  readonly onRound?: (r: ReconcileResult) => void;
  readonly now?: () => number;
  /** KEYFLOW_MAX_FUTURE: how far ahead of the clock an event may be (default 1 day). */
  readonly maxFutureMs?: number;
};

/** What one round did. */
export type ReconcileResult = {
  /** False when another process holds this round's lock. */
  readonly ran: boolean;
  /** Closed minutes whose Redis counts differed from the store and were replaced. */
  readonly minutesCorrected: number;
  /** Closed minutes whose per-second counts did not add up to the store's and were rebuilt. */
  readonly secondsCorrected?: number;
  /** True when the open minute's seconds were rebuilt from the store. */
  readonly openMinuteRebuilt?: boolean;
  /** Why the active-users set was rebuilt, if it was. */
  readonly rebuilt?: 'missing' | 'flagged' | 'inflight' | 'ahead';
  /** True when a rebuild was discarded by a concurrent erasure or failure (the next round retries). */
  readonly rebuildRetried?: boolean;
};

const DEFAULT_MAX_FUTURE_MS = 86_400_000;

/** Runs reconcile rounds on a timer; `reconcile()` runs one now. */
export class LiveReconciler {
  readonly #o: ReconcilerOptions;
  readonly #keys: ReturnType<typeof liveKeys>;
  readonly #token = `${process.pid}:${Math.random().toString(36).slice(2)}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(o: ReconcilerOptions) {
    this.#o = o;
    this.#keys = liveKeys(o.prefix);
  }

  start(): void {
    this.#timer = setInterval(() => {
      if (this.#running !== undefined) return;
      this.#running = this.reconcile()
        .then((r) => {
          if (r.ran) this.#o.onRound?.(r);
          if (r.minutesCorrected > 0 || r.rebuilt !== undefined) this.#o.log.info('live view reconciled', { ...r });
        })
        .catch((e: unknown) => this.#o.log.debug('live reconcile failed', errorFields(e)))
        .finally(() => (this.#running = undefined));
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  /** One round (see the module rule). */
  async reconcile(options: { force?: boolean } = {}): Promise<ReconcileResult> {
    const { redis, sql } = this.#o;
    const k = this.#keys;
    const now = (this.#o.now ?? Date.now)();
    if (options.force !== true) {
      const won = await redis.set(k.lock, this.#token, 'PX', Math.max(100, Math.floor(this.#o.intervalMs * 0.8)), 'NX');
      if (won === null) return { ran: false, minutesCorrected: 0 };
    }
    const to = minuteOf(now);
    const from = to - LIVE_MINUTES * MINUTE_MS;
    const latest = now + (this.#o.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS);
    const [store, runId, state] = await Promise.all([
      liveMinuteCounts(sql, from, to),
      redisRunId(redis),
      redis.multi().zremrangebyscore(k.active, `(${latest}`, '+inf').zremrangebyscore(k.ahead, `(${latest}`, '+inf')
        .get(k.activeBuilt).get(k.rebuild).zrange(k.inflight, 0, -1, 'WITHSCORES').get(k.erasures).exec(),
    ]);
    const minutesCorrected = await this.#replaceMinutes(from, to, store);
    const secondsCorrected = await this.#checkSeconds(to, store);
    await this.#promoteDue(now);

    const [beyond, , built, flagged, inflight, erasures] = (state ?? []).map(([, v]) => v) as [number, number, string | null, string | null, string[], string | null];
    const stale = await this.#staleTokens(inflight, now);
    // Users dropped for an entry beyond the limit may have real recent events: rebuild them.
    const why = built !== runId ? 'missing' : flagged !== null ? 'flagged' : beyond > 0 ? 'ahead' : stale.length > 0 ? 'inflight' : undefined;
    const counts = { ran: true, minutesCorrected, ...(secondsCorrected > 0 ? { secondsCorrected } : {}) };
    let retried = false;
    if (why !== undefined) {
      // Whatever lost the active set may have lost the open minute's seconds too.
      await redis.set(k.secondsPending, String(to), 'PX', 2 * MINUTE_MS);
      retried = !(await this.#rebuildActive(now, runId, erasures, flagged, stale));
    }
    const openMinuteRebuilt = await this.#rebuildOpenMinute(to, now);
    return { ...counts, ...(why !== undefined ? { rebuilt: why } : {}), ...(retried ? { rebuildRetried: true } : {}), ...(openMinuteRebuilt ? { openMinuteRebuilt } : {}) };
  }

  /** Rebuild the seconds of each recent closed minute whose seconds do not add up to the store's counts. */
  async #checkSeconds(to: number, store: Awaited<ReturnType<typeof liveMinuteCounts>>): Promise<number> {
    const { redis, sql } = this.#o;
    const k = this.#keys;
    const want = new Map(store.map((m) => [m.minute, m]));
    const minutes: number[] = [];
    for (let m = to - SECONDS_MINUTES * MINUTE_MS; m < to; m += MINUTE_MS) minutes.push(m);
    const read = redis.pipeline();
    for (const m of minutes) for (const s of secondsOfMinute(m)) read.get(k.second(s).total).hgetall(k.second(s).types);
    const got = (await read.exec()) ?? [];
    const failed = got.find(([err]) => err !== null);
    if (failed?.[0]) throw failed[0];
    const perSecond = 2 * (MINUTE_MS / 1_000);
    const wrong = minutes.filter((m, i) => {
      let total = 0;
      const types: Record<string, string> = {};
      for (let j = 0; j < perSecond; j += 2) {
        total += Number((got[i * perSecond + j]?.[1] as string | null) ?? 0);
        for (const [t, n] of Object.entries((got[i * perSecond + j + 1]?.[1] as Record<string, string> | null) ?? {})) types[t] = String(Number(types[t] ?? 0) + Number(n));
      }
      const w = want.get(m);
      return !((w?.total ?? 0) === total && sameCounts(w?.types ?? new Map(), types));
    });
    if (wrong.length === 0) return 0;
    const seconds = await liveSecondCounts(sql, Math.min(...wrong), Math.max(...wrong) + MINUTE_MS);
    const tx = redis.multi();
    for (const m of wrong) this.#writeSeconds(tx, m, seconds);
    await tx.exec();
    return wrong.length;
  }

  /** Queue the replacement of one minute's seconds by the store's. */
  #writeSeconds(tx: ReturnType<Redis['multi']>, minute: number, seconds: readonly LiveSecondCounts[]): void {
    const k = this.#keys;
    const bySecond = new Map(seconds.map((s) => [s.second, s]));
    for (const s of secondsOfMinute(minute)) {
      const sk = k.second(s);
      tx.del(sk.total, sk.types);
      const w = bySecond.get(s);
      if (w === undefined) continue;
      const until = Math.ceil((s + SECONDS_KEPT_MS) / 1_000);
      tx.set(sk.total, String(w.total)).expireat(sk.total, until);
      tx.hset(sk.types, Object.fromEntries([...w.types].map(([t, n]) => [t, String(n)]))).expireat(sk.types, until);
    }
  }

  /** Rebuild the open minute's seconds if they are pending and no flush is in flight; true if done. */
  async #rebuildOpenMinute(to: number, now: number): Promise<boolean> {
    const { redis, sql } = this.#o;
    const k = this.#keys;
    await redis.watch(k.inflight, k.secondsPending);
    try {
      const pending = await redis.get(k.secondsPending);
      if (pending === null) return false;
      // A minute that has closed is the check's (#checkSeconds) from now on.
      if (Number(pending) < to) {
        await redis.multi().del(k.secondsPending).exec();
        return false;
      }
      // A flush in flight may have stored events whose Redis update has not landed: the store
      // read would count them, and then their update again.
      const inflight = await redis.zrange(k.inflight, 0, -1, 'WITHSCORES');
      if ((await this.#staleTokens(inflight, now)).length * 2 !== inflight.length) return false;
      const seconds = await liveSecondCounts(sql, to, to + MINUTE_MS);
      const tx = redis.multi();
      this.#writeSeconds(tx, to, seconds);
      tx.del(k.secondsPending);
      return (await tx.exec()) !== null;
    } finally {
      await redis.unwatch().catch(() => undefined);
    }
  }

  /** Move the events of live:ahead whose time has come into the active set; an erasure meanwhile discards the move. */
  async #promoteDue(now: number): Promise<void> {
    const { redis } = this.#o;
    const k = this.#keys;
    await redis.watch(k.erasures);
    try {
      const due = await redis.zrangebyscore(k.ahead, '-inf', now, 'WITHSCORES');
      if (due.length === 0) return;
      const newest = new Map<string, number>();
      for (let i = 0; i + 1 < due.length; i += 2) {
        const user = aheadUser(due[i]!);
        newest.set(user, Math.max(newest.get(user) ?? -Infinity, Number(due[i + 1])));
      }
      const members = due.filter((_, i) => i % 2 === 0);
      await redis.multi().zadd(k.active, 'GT', ...[...newest].flatMap(([user, ms]) => [ms, user])).zrem(k.ahead, ...members).exec();
    } finally {
      await redis.unwatch().catch(() => undefined);
    }
  }

  /** In-flight tokens whose flush is surely over without its live update. */
  async #staleTokens(inflight: readonly string[], now: number): Promise<string[]> {
    if (inflight.length === 0) return [];
    const tokens: { token: string; at: number; writer: string }[] = [];
    for (let i = 0; i + 1 < inflight.length; i += 2) tokens.push({ token: inflight[i]!, at: Number(inflight[i + 1]), writer: writerOf(inflight[i]!) });
    const writers = [...new Set(tokens.map((t) => t.writer))];
    const alive = await this.#o.redis.mget(...writers.map((w) => this.#keys.alive(w)));
    const gone = new Set(writers.filter((_, i) => alive[i] === null));
    return tokens.filter((t) => gone.has(t.writer) || now - t.at > INFLIGHT_STALE_MS).map((t) => t.token);
  }

  async #replaceMinutes(from: number, to: number, store: Awaited<ReturnType<typeof liveMinuteCounts>>): Promise<number> {
    const { redis } = this.#o;
    const k = this.#keys;
    const want = new Map(store.map((m) => [m.minute, m]));
    const minutes: number[] = [];
    for (let m = from; m < to; m += MINUTE_MS) minutes.push(m);
    const read = redis.pipeline();
    for (const m of minutes) read.get(k.minute(m).total).hgetall(k.minute(m).types);
    const got = (await read.exec()) ?? [];
    const write = redis.multi();
    let corrected = 0;
    minutes.forEach((m, i) => {
      const total = Number((got[2 * i]?.[1] as string | null) ?? 0);
      const types = (got[2 * i + 1]?.[1] as Record<string, string> | null) ?? {};
      const w = want.get(m);
      const same = (w?.total ?? 0) === total && sameCounts(w?.types ?? new Map(), types);
      if (same) return;
      corrected++;
      const mk = k.minute(m);
      write.del(mk.total, mk.types);
      if (w === undefined) return;
      write.set(mk.total, String(w.total), 'EX', LIVE_TTL_SECONDS);
      write.hset(mk.types, Object.fromEntries([...w.types].map(([t, n]) => [t, String(n)])));
      write.expire(mk.types, LIVE_TTL_SECONDS);
    });
    if (corrected > 0) await write.exec();
    else write.discard();
    return corrected;
  }

  /** Merge the store's active users in; false when a concurrent erasure or failure discarded it. */
  async #rebuildActive(now: number, runId: string, erasures: string | null, flagged: string | null, stale: readonly string[]): Promise<boolean> {
    const { redis, sql } = this.#o;
    const k = this.#keys;
    await redis.watch(k.erasures, k.rebuild);
    try {
      const [users, ahead] = await Promise.all([
      usersActiveSince(sql, now - (LIVE_MINUTES + 1) * MINUTE_MS, now),
      usersAhead(sql, now, now + (this.#o.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS)),
    ]);
      // Plain reads keep the WATCH; anything that changed since the round began discards the merge.
      const [e, f] = [await redis.get(k.erasures), await redis.get(k.rebuild)];
      if (e !== erasures || f !== flagged) return false;
      const tx = redis.multi();
      for (let i = 0; i < users.length; i += 5_000) {
        tx.zadd(k.active, 'GT', ...users.slice(i, i + 5_000).flatMap((u) => [u.newestMs, u.userId]));
      }
      for (let i = 0; i < ahead.length; i += 5_000) {
        tx.zadd(k.ahead, ...ahead.slice(i, i + 5_000).flatMap((a) => [a.ms, aheadMember(a.ms, a.userId)]));
      }
      tx.zremrangebyscore(k.active, '-inf', `(${now - (LIVE_MINUTES + 1) * MINUTE_MS}`);
      tx.set(k.activeBuilt, runId);
      if (flagged !== null) tx.del(k.rebuild);
      if (stale.length > 0) tx.zrem(k.inflight, ...stale);
      return (await tx.exec()) !== null;
    } finally {
      await redis.unwatch().catch(() => undefined);
    }
  }
}

function sameCounts(want: ReadonlyMap<string, number>, got: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(got);
  if (keys.length !== want.size) return false;
  return keys.every((t) => want.get(t) === Number(got[t]));
}

/** The id of the running Redis server: it changes on every restart. */
async function redisRunId(redis: Redis): Promise<string> {
  const info = await redis.info('server');
  return /run_id:(\w+)/.exec(info)?.[1] ?? 'unknown';
}

/**
 * Drop one user from the live view at once (the erasure's part of it): the active-users set
 * forgets them, and a rebuild that read the store before this is discarded. The per-minute
 * and per-second counters lose the user's events at the next reconcile round, which reads the
 * rollups and events the erasure already corrected (the open minute's seconds are marked
 * pending for it).
 *
 * @example
 * await forgetLiveUser(redis, config.redisPrefix, 'u-42');
 */
export async function forgetLiveUser(redis: Redis, prefix: string, userId: string): Promise<void> {
  const k = liveKeys(prefix);
  // Their events ahead of the clock first: a move of them that began before is then discarded by the INCR.
  const ahead = (await redis.zrange(k.ahead, 0, -1)).filter((m) => aheadUser(m) === userId);
  if (ahead.length > 0) await redis.zrem(k.ahead, ...ahead);
  await redis.multi().incr(k.erasures).zrem(k.active, userId).set(k.secondsPending, String(minuteOf(Date.now())), 'PX', 2 * MINUTE_MS).exec();
}
