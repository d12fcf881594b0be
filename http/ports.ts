// The seams of the HTTP edge. Rule: http/ reaches Kafka, the stores and the runtime only
// through these interfaces, which it declares itself and the composition root fills in, so
// the edge never imports runtime/ and can be exercised without sockets.
import type { PartitionKeyMode } from '../actors/index.ts';
import type {
  DemographicsReport as DbDemographicsReport,
  ErasureView as DbErasureView,
  EventListPage as DbEventListPage,
  EventListQuery as DbEventListQuery,
  EventsReport as DbEventsReport,
  FunnelQuery as DbFunnelQuery,
  FunnelStep as DbFunnelStep,
  ReportDemographicsQuery,
  TimeseriesPoint as DbTimeseriesPoint,
  TimeseriesQuery as DbTimeseriesQuery,
  ReportEventsQuery,
  ReportGroupKey,
  ReportRevenueQuery,
  RevenueReport as DbRevenueReport,
  StoredEvent as DbStoredEvent,
  UserProfile as DbUserProfile,
} from '../db/index.ts';
import type { DecodedBody, EncodedEvent } from './ingest/decode-body.ts';

export type { DecodedBody, EncodedEvent };

/** Hands validated events to Kafka. */
export interface IngestPort {
  /**
   * Resolves only after Kafka acknowledged every event (acks = all). Throws (typically with
   * `code: 'KEYFLOW_KAFKA_UNAVAILABLE'`) when it cannot; the edge then answers 503.
   *
   * @example
   * await ingest.publish([event], c.req.raw.signal);
   */
  publish(events: readonly EncodedEvent[], signal?: AbortSignal): Promise<void>;
  /**
   * How large one event may be in Kafka, once known (the publisher reads the topic's limit
   * when it connects); the edge refuses a larger event before producing anything. A publish
   * may still reject an event as too large (`code: 'KEYFLOW_EVENT_TOO_LARGE'`): also a 413.
   */
  eventSizeLimit?(): EventSizeLimit | undefined;
}

/** The most bytes an event's key and encoded value may take together, and the Kafka limit behind it. */
export type EventSizeLimit = {
  readonly maxEventBytes: number;
  /** The largest record batch the topic takes (its max.message.bytes, or the broker's message.max.bytes). */
  readonly maxMessageBytes: number;
  /** Where maxMessageBytes comes from, e.g. `max.message.bytes of topic keyflow.events`. */
  readonly source: string;
};

/** Decodes large request bodies off the event loop (a worker pool, in production). */
export interface BodyDecoder {
  /** The same answer as `decodeBody(bytes, …)` inline; may take ownership of `bytes`. */
  decode(bytes: Uint8Array, per?: PerRequestDecodeOptions): Promise<DecodedBody>;
}

/** What a decode depends on that changes with each request (the clock). */
export type PerRequestDecodeOptions = {
  readonly retention?: { readonly cutoffMs: number; readonly days: number };
  readonly future?: { readonly cutoffMs: number; readonly maxFutureMs: number };
};

/** What an API key may do (DESIGN.md; the route → scope rule is http/auth/access.ts). */
export type Scope = 'ingest' | 'read' | 'admin';

/** A configured API key. Its `name` goes into logs and metrics; its secret never does. */
export type ApiKey = { readonly name: string; readonly secret: string; readonly scopes: readonly Scope[] };

/** What the rate limiter decided for one request. */
export type RateLimitDecision = {
  readonly allowed: boolean;
  /** The policy: a bucket of `burst` requests refilled at `perSec` per second. */
  readonly burst: number;
  readonly perSec: number;
  /** Whole requests left in the bucket after this one. */
  readonly remaining: number;
  /** Seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Seconds until the next request would pass (0 when allowed). */
  readonly retryAfterSeconds: number;
};

/** Per-key token buckets shared by every edge process (Redis, in production). */
export interface RateLimitPort {
  /**
   * Take one request from the bucket of `keyName`. Never rejects: when the shared store is
   * unreachable it answers undefined (the request passes: ingestion never depends on it).
   */
  take(keyName: string): Promise<RateLimitDecision | undefined>;
}

// The shapes of stored events and reports are the store's own (db/ owns the queries); the
// edge only renames them for its routes.
/** A stored event in API shape: occurredAt and receivedAt as RFC 3339 strings. */
export type StoredEvent = DbStoredEvent;
/** Report dimensions a client may group by. */
export type ReportDimension = ReportGroupKey;
/** A validated `GET /v1/reports/events` query; `from` inclusive, `to` exclusive. */
export type EventsReportQuery = ReportEventsQuery;
/** Counts of stored events, in total and per group (a group names only its groupBy fields). */
export type EventsReport = DbEventsReport;
/** A validated `GET /v1/reports/revenue` query. */
export type RevenueReportQuery = ReportRevenueQuery;
/** Exact revenue per currency (decimal strings), optionally split by source and type. */
export type RevenueReport = DbRevenueReport;
/** A validated `GET /v1/reports/demographics` query. */
export type DemographicsReportQuery = ReportDemographicsQuery;
/** Distinct users and their events per current profile value. */
export type DemographicsReport = DbDemographicsReport;
/** A validated `GET /v1/events` query; `after` is the decoded cursor's position. */
export type EventListQuery = DbEventListQuery;
/** One page of the event list; `next` is the position the next page starts after. */
export type EventListPage = DbEventListPage;
/** `GET /v1/users/:userId`: the user's current profile, counts, revenue and newest events. */
export type UserProfile = DbUserProfile;

/** A validated time-series query (zone validated, interval 1m/1h/1d). */
export type TimeseriesQuery = DbTimeseriesQuery;
/** One point: `t` the bucket start in epoch ms; the edge prints it in the zone. */
export type TimeseriesPoint = DbTimeseriesPoint;
/** A validated funnel query; `windowMs` from step 1. */
export type FunnelQuery = DbFunnelQuery;
/** One funnel step's figures. */
export type FunnelStep = DbFunnelStep;

/**
 * Read-only queries over the store (db/ in production). Each takes the request's AbortSignal:
 * when the client goes away the read is cancelled in the store. A read that runs past the
 * store's statement timeout (or is cancelled) rejects with PostgreSQL's 57014, a 503.
 */
export interface QueryPort {
  /** The stored event with this id, or undefined. */
  getEvent(id: string, signal?: AbortSignal): Promise<StoredEvent | undefined>;
  /** Counts for the query's window and filters. */
  reportEvents(q: EventsReportQuery, signal?: AbortSignal): Promise<EventsReport>;
  /** Revenue per currency for the query's window and filters. */
  reportRevenue(q: RevenueReportQuery, signal?: AbortSignal): Promise<RevenueReport>;
  /** Users and events per value of `q.by` for the query's window and filters. */
  reportDemographics(q: DemographicsReportQuery, signal?: AbortSignal): Promise<DemographicsReport>;
  /**
   * Dead letters, newest first, one page. Rejects with an error whose `code` is
   * `KEYFLOW_INVALID_CURSOR` when `cursor` is not one it handed out (the edge answers 400).
   *
   * @example
   * const { items, nextCursor } = await queries.listDeadLetters({ limit: 50 });
   */
  listDeadLetters(q: DeadLetterQuery, signal?: AbortSignal): Promise<DeadLetterPage>;
  /** One page of stored events, newest first (occurredAt desc, id desc). */
  listEvents(q: EventListQuery, signal?: AbortSignal): Promise<EventListPage>;
  /** The profile of a user, or undefined when no event of that user is stored. */
  getUserProfile(userId: string, signal?: AbortSignal): Promise<UserProfile | undefined>;
  /** Every bucket meeting the window, zero-filled; rejects with TooManyBucketsError past 10,000. */
  timeseries(q: TimeseriesQuery, signal?: AbortSignal): Promise<readonly TimeseriesPoint[]>;
  /** The funnel's steps, in the query's order. */
  funnel(q: FunnelQuery, signal?: AbortSignal): Promise<readonly FunnelStep[]>;
}

/** A validated `GET /v1/dead-letters` query. */
export type DeadLetterQuery = { readonly limit: number; readonly cursor?: string };

/** A Kafka message that could not become an event, with why, as the API shows it. */
export type DeadLetter = {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  /** The Kafka offset, a decimal string. */
  readonly offset: string;
  /** The message key, base64; null when it had none. */
  readonly key: string | null;
  /** The last offset when the dead letter covers a range of offsets (a record batch); null for one message. */
  readonly lastOffset: string | null;
  /** The message value (a prefix of it when rawTruncated), base64; null when it had none. */
  readonly raw: string | null;
  /** The start of the value decoded as UTF-8 (invalid bytes as U+FFFD), to read. */
  readonly rawPreview: string | null;
  /** Bytes of the whole value; null when it had none. */
  readonly rawLength: number | null;
  /** SHA-256 of the whole value, hex; null when it had none. */
  readonly rawSha256: string | null;
  /** True when raw holds fewer bytes than rawLength. */
  readonly rawTruncated: boolean;
  /** Why: not-json, schema, empty, too-large, expired, future, unsigned-command, batch-failed, undecodable-batch, store-rejected… */
  readonly reason: string;
  readonly error: string;
  readonly createdAt: string;
};

/** One page of dead letters; pass `nextCursor` back as `cursor` for the next (null: the last page). */
export type DeadLetterPage = { readonly items: readonly DeadLetter[]; readonly nextCursor: string | null };

/** Readiness of each dependency (kafka, postgres, redis, workers…). */
export type Readiness = {
  readonly ready: boolean;
  /** `degraded: true` marks a failing check that does not make the process unready (Redis). */
  readonly checks: Readonly<Record<string, { readonly ok: boolean; readonly detail?: string; readonly degraded?: boolean }>>;
};

export interface HealthPort {
  readiness(): Promise<Readiness>;
}

/** The Prometheus registry, as far as the edge needs it. */
export interface MetricsPort {
  readonly contentType: string;
  render(): Promise<string>;
}

/** What a request was, for the unexpected-error hook. */
export type RequestInfo = { readonly requestId: string; readonly method: string; readonly path: string; readonly key?: string };

export type EdgeOptions = {
  /** Largest request body, in bytes, counted while reading. */
  readonly maxBodyBytes: number;
  /** Largest number of events in one POST (1000 by the API contract). */
  readonly maxBatchEvents: number;
  /** Which field keys an event's Kafka message (default userId). */
  readonly partitionKey?: PartitionKeyMode;
  /** Bodies at least this large go to `EdgeDeps.decoder` when there is one. */
  readonly decodeInPoolFromBytes?: number;
  /**
   * When non-empty, every /v1/* route needs one of these keys with the route's scope. When
   * empty, only loopback Host names are served and keyless ingest takes JSON/NDJSON only.
   */
  readonly apiKeys: readonly ApiKey[];
  /** KEYFLOW_AUTH=none: no keys, opened to the network on purpose (no Host check). */
  readonly openToNetwork?: boolean;
  /** Required on /internal/* (X-Keyflow-Internal-Token); derived from the keys when absent. */
  readonly internalToken?: string;
  /** Refuse events older than this many whole UTC days before today (KEYFLOW_RETENTION_DAYS). */
  readonly retentionDays?: number;
  /** Refuse events whose occurredAt is more than this many ms ahead of the clock (KEYFLOW_MAX_FUTURE). */
  readonly maxFutureMs?: number;
  /**
   * False when the deployment has no KEYFLOW_EDGE_TOKEN: erasure commands could not be signed,
   * so DELETE /v1/users answers 409 rather than produce a command no worker runs.
   */
  readonly commandsSigned?: boolean;
  /** The longest a client may take to send a request body, in ms (408 past it). */
  readonly bodyTimeoutMs?: number;
  /** Failed authentications (401) one client address may make per minute; past them 429. Absent or 0: unlimited. */
  readonly authFailuresPerMin?: number;
  /** Peers whose X-Forwarded-For names the client (KEYFLOW_TRUSTED_PROXIES); none by default. */
  readonly trustedProxies?: readonly string[];
  /** Called once per /v1 or /internal request with the key name and the status answered. */
  onRequest?(info: { readonly key: string; readonly status: number }): void;
  /** Called with the number of events published by a request that answered 202. */
  onAccepted?(n: number): void;
  /** Called with the number of events that failed validation. */
  onRejected?(n: number): void;
  /** Called with the number of Segment messages rejected for one reason by one request. */
  onSegmentRejected?(reason: string, n: number): void;
  /**
   * Origins allowed by CORS on the Segment-compatible routes (`*` for any); an empty list
   * turns CORS off. Absent: `*` when API keys are configured, off without them.
   */
  readonly corsOrigins?: readonly string[];
  /** Called with every error that became a 500, or with a publish failure that became a 503. */
  onError?(error: unknown, request: RequestInfo): void;
  /** Clock for report defaults; Date.now by default. */
  now?(): number;
  /**
   * Signs the cursors of GET /v1/events. Every edge that serves one list must share it;
   * without it each app makes a random one (cursors then die with the process).
   */
  readonly cursorSecret?: string;
};

/** The live state of one actor, and where it lives. */
export type ActorView = {
  readonly key: string;
  readonly workerId: number;
  readonly partition: number;
  readonly pendingEvents: number;
  readonly dedupWindowSize: number;
  readonly counts: { readonly received: number; readonly duplicates: number; readonly flushed: number };
  readonly createdAt: string;
  readonly lastActiveAt: string;
  /** The process that answered, in a scaled deployment. */
  readonly process?: string;
};

/** Finds live actors (the runtime's supervisors, in production). */
export interface ActorsPort {
  /** The actor of `key` wherever it lives; undefined when none is live. */
  locate(key: string): Promise<ActorView | undefined>;
  /** The actor of `key` if it lives in this process. */
  locateHere(key: string): Promise<ActorView | undefined>;
}

/** An erasure the edge asks for: its id, the user, and when (epoch ms). */
export type ErasureRequest = { readonly erasureId: string; readonly userId: string; readonly requestedAt: number };

/** An erasure as GET /v1/erasures/:id shows it (db/'s own shape). */
export type ErasureView = DbErasureView;

/** Erasures: the command through Kafka, the row in the store. */
export interface ErasurePort {
  /**
   * Produce the erasure command on the user's partition key; resolves only after Kafka
   * acknowledged it (throws like IngestPort.publish otherwise).
   */
  produce(r: ErasureRequest, signal?: AbortSignal): Promise<void>;
  /** Record the erasure as pending (after the acknowledgement); a no-op once it is done. */
  record(r: ErasureRequest): Promise<void>;
  /** The erasure with this id, or undefined. */
  get(id: string): Promise<ErasureView | undefined>;
}

export type EdgeDeps = {
  readonly ingest: IngestPort;
  readonly queries: QueryPort;
  readonly health: HealthPort;
  readonly metrics: MetricsPort;
  /** Absent in a process that runs no workers and knows no directory: the routes answer 404. */
  readonly actors?: ActorsPort;
  /** Decodes large bodies off the event loop; without it every body is decoded inline. */
  readonly decoder?: BodyDecoder;
  /** Per-key rate limits; absent = unlimited. */
  readonly rateLimit?: RateLimitPort;
  /** The live view and lag; absent: the live routes answer 404. */
  readonly live?: LivePort;
  /** Limits of `GET /v1/stream` (defaults: 100 clients, 1 MiB queued per client). */
  readonly stream?: StreamOptions;
  /** Absent: DELETE /v1/users/:userId and GET /v1/erasures/:id answer 404. */
  readonly erasures?: ErasurePort;
  readonly options: EdgeOptions;
};

/** `GET /v1/analytics/summary` (DESIGN.md *Live*); the rules of each number are in runtime/live/summary.ts. */
export type LiveSummary = {
  /** When the summary was taken (RFC 3339); every window is (at − w, at]. */
  readonly at: string;
  /** Events that occurred in (at − 60 s, at]. */
  readonly eventsLastMinute: number;
  /** The mean over the last 10 s: events in (at − 10 s, at] / 10. */
  readonly eventsPerSecond: number;
  /** Distinct userIds with an event that occurred in the last 1, 5 and 30 minutes up to at. */
  readonly activeUsers: { readonly '1m': number; readonly '5m': number; readonly '30m': number };
  /** Events per type in (at − 5 min, at], most first. */
  readonly topTypes: readonly { readonly type: string; readonly events: number }[];
};

/** A newly stored event on the live feed: where it was in Kafka, and the event (occurredAt as RFC 3339). */
export type LiveEvent = {
  readonly partition: number;
  /** The Kafka offset, a decimal string. */
  readonly offset: string;
  readonly event: Readonly<Record<string, unknown>> & { readonly id?: unknown; readonly type?: unknown; readonly source?: unknown; readonly userId?: unknown };
};

/** The consumer group's position on one partition. */
export type PartitionLag = {
  readonly partition: number;
  /** The group's committed offset (the next message it will read); null when it never committed. */
  readonly committedOffset: number | null;
  /** The partition's high watermark (the offset the next produced message gets). */
  readonly highWatermark: number;
  /** highWatermark − committedOffset (from the log start when nothing was committed). */
  readonly lag: number;
  /** The process and worker thread that hold the partition now, or null (none, or rebalancing). */
  readonly owner: { readonly process: string; readonly workerId: number } | null;
};

/** `GET /v1/admin/lag`. */
export type LagReport = {
  readonly group: string;
  readonly topic: string;
  readonly totalLag: number;
  readonly maxLag: number;
  readonly partitions: readonly PartitionLag[];
};

/** The live view (Redis) and the consumer group's lag (Kafka), for the live routes. */
export interface LivePort {
  /**
   * The live summary, from Redis only. Rejects (typically with `code: 'KEYFLOW_REDIS_UNAVAILABLE'`)
   * when Redis does not answer; the edge then answers 503.
   */
  summary(): Promise<LiveSummary>;
  /**
   * Receive every newly stored event (after its flush committed) until the answer is
   * called. Resolves once events stored from now on are sure to arrive.
   *
   * @example
   * const stop = await live.subscribe((events) => console.log(events.length));
   */
  subscribe(listener: (events: readonly LiveEvent[]) => void): Promise<() => void>;
  /** The group's lag on every partition of the events topic. */
  lag(): Promise<LagReport>;
}

/** Limits and hooks of `GET /v1/stream`. */
export type StreamOptions = {
  /** Most concurrent stream clients of this process; beyond, 503. */
  readonly maxClients: number;
  /** Most concurrent streams of one API key (of one client address without keys); beyond, 429. Default 5. */
  readonly maxPerKey?: number;
  /** Most bytes queued for one client; events beyond are dropped for that client (and counted). */
  readonly maxQueuedBytes: number;
  /** Milliseconds between summaries (1000). */
  readonly summaryEveryMs?: number;
  /** Milliseconds between keep-alive comment lines (15000). */
  readonly keepAliveEveryMs?: number;
  /** Ends every stream when it fires (shutdown). */
  readonly signal?: AbortSignal;
  onClients?(n: number): void;
  onDropped?(n: number): void;
  onSent?(n: number): void;
  onRejected?(): void;
};
