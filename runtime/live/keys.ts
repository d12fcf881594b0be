// The Redis layout of the live view, in one place so that the writers (worker threads), the
// reconciler and the readers (the edge) can never disagree on a key.
//
//   <prefix>live:<minute>:total    string   events that occurred in that minute (epoch ms of its start)
//   <prefix>live:<minute>:types    hash     type → events in that minute
//   <prefix>live:s:<second>:total  string   events that occurred in that second (epoch ms of its start);
//                                           expires SECONDS_KEPT_MS after the second
//   <prefix>live:s:<second>:types  hash     type → events in that second (same expiry)
//   <prefix>live:s:pending         string   a minute (epoch ms) whose seconds may be wrong while it is
//                                           still open (Redis lost them, an erasure): the reconciler
//                                           rebuilds them from the store when no flush is in flight
//   <prefix>live:active            zset     userId → newest occurredAt (ms) of that user's stored events,
//                                           never ahead of the clock when written
//   <prefix>live:ahead             zset     `<ms>:<userId>` → ms: stored events that were ahead of the clock
//                                           when flushed (at most KEYFLOW_MAX_FUTURE); moved into
//                                           `active` by the reconciler once their time has come
//   <prefix>live:active:built      string   present once the active set was rebuilt from the store
//                                           after Redis last lost it (its absence triggers a rebuild)
//   <prefix>live:inflight          zset     flush token → start (ms): a flush whose live update has
//                                           not landed yet; one left behind (crash) triggers a rebuild
//   <prefix>live:alive:<writer>  string   refreshed every second by each live writer (worker thread);
//                                           a token of a writer whose key expired is lost at once
//   <prefix>live:rebuild           string   set by a worker whose live update failed: rebuild
//   <prefix>live:erasures          counter  bumped by every erasure; a rebuild read before one is discarded
//   <prefix>live:reconcile:lock    string   the process that reconciles this round
//   <prefix>live:events            channel  newly stored events (JSON array), while someone listens
//   <prefix>live:feed:demand       channel  an edge says it has listeners; workers start publishing

/** Minutes the live view holds (activeUsers' longest window is 30 minutes too). */
export const LIVE_MINUTES = 30;
/** Seconds a minute's keys live: the live window and some slack. */
export const LIVE_TTL_SECONDS = (LIVE_MINUTES + 5) * 60;
export const MINUTE_MS = 60_000;
export const SECOND_MS = 1_000;
/** How long a second's counters are kept: the summary reads seconds back to the start of the minute 5 minutes ago. */
export const SECONDS_KEPT_MS = 8 * MINUTE_MS;
/** The closed minutes whose seconds the reconciler checks against the store: those the summary may read. */
export const SECONDS_MINUTES = 6;
/** How long after its start a flush whose live update never landed is taken for lost (its writer alive). */
export const INFLIGHT_STALE_MS = 30_000;
/** A writer that has not refreshed its alive key for this long is gone (SIGKILL, crash). */
export const WRITER_ALIVE_MS = 4_000;

/** Every key of one prefix's live view. */
export function liveKeys(prefix: string) {
  const base = `${prefix}live:`;
  return {
    minute: (minute: number) => ({ total: `${base}${minute}:total`, types: `${base}${minute}:types` }),
    second: (second: number) => ({ total: `${base}s:${second}:total`, types: `${base}s:${second}:types` }),
    secondsPending: `${base}s:pending`,
    active: `${base}active`,
    ahead: `${base}ahead`,
    activeBuilt: `${base}active:built`,
    inflight: `${base}inflight`,
    alive: (writer: string) => `${base}alive:${writer}`,
    rebuild: `${base}rebuild`,
    erasures: `${base}erasures`,
    lock: `${base}reconcile:lock`,
    events: `${base}events`,
    demand: `${base}feed:demand`,
  };
}

/** The start (epoch ms) of the minute `ms` is in. */
export const minuteOf = (ms: number): number => ms - (((ms % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);

/** The start (epoch ms) of the second `ms` is in. */
export const secondOf = (ms: number): number => ms - (((ms % SECOND_MS) + SECOND_MS) % SECOND_MS);

/** The seconds (their starts) of the minute that starts at `minute`. */
export const secondsOfMinute = (minute: number): number[] => Array.from({ length: MINUTE_MS / SECOND_MS }, (_, i) => minute + i * SECOND_MS);

/** A member of `live:ahead`: an instant and the user whose event occurs then. */
export const aheadMember = (ms: number, userId: string): string => `${ms}:${userId}`;
/** The user of a `live:ahead` member. */
export const aheadUser = (member: string): string => member.slice(member.indexOf(':') + 1);

/** The writer of an in-flight token (`<writer>/<flush>`). */
export const writerOf = (token: string): string => token.slice(0, token.indexOf('/'));

/** One stored event on the feed channel: where it was in Kafka, and the event in API shape. */
export type FeedItem = { readonly partition: number; readonly offset: string; readonly event: Readonly<Record<string, unknown>> };
