// The seams of the HTTP edge. Rule: http/ reaches Kafka, the stores and the runtime only
// through these interfaces, which it declares itself and the composition root fills in, so
// the edge never imports runtime/ and can be exercised without sockets.
import type { PartitionKeyMode } from '../actors/index.ts';
import type {
  EventListPage as DbEventListPage,
  EventListQuery as DbEventListQuery,
  EventsReport as DbEventsReport,
  ReportEventsQuery,
  ReportGroupKey,
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
}

/** Decodes large request bodies off the event loop (a worker pool, in production). */
export interface BodyDecoder {
  /** The same answer as `decodeBody(bytes, …)` inline; may take ownership of `bytes`. */
  decode(bytes: Uint8Array): Promise<DecodedBody>;
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
/** A validated `GET /v1/events` query; `after` is the decoded cursor's position. */
export type EventListQuery = DbEventListQuery;
/** One page of the event list; `next` is the position the next page starts after. */
export type EventListPage = DbEventListPage;
/** `GET /v1/users/:userId`: the user's current profile, counts, revenue and newest events. */
export type UserProfile = DbUserProfile;

/** Read-only queries over the store (db/ in production). */
export interface QueryPort {
  /** The stored event with this id, or undefined. */
  getEvent(id: string): Promise<StoredEvent | undefined>;
  /** Counts for the query's window and filters. */
  reportEvents(q: EventsReportQuery): Promise<EventsReport>;
  /**
   * Dead letters, newest first, one page. Rejects with an error whose `code` is
   * `KEYFLOW_INVALID_CURSOR` when `cursor` is not one it handed out (the edge answers 400).
   *
   * @example
   * const { items, nextCursor } = await queries.listDeadLetters({ limit: 50 });
   */
  listDeadLetters(q: DeadLetterQuery): Promise<DeadLetterPage>;
  /** One page of stored events, newest first (occurredAt desc, id desc). */
  listEvents(q: EventListQuery): Promise<EventListPage>;
  /** The profile of a user, or undefined when no event of that user is stored. */
  getUserProfile(userId: string): Promise<UserProfile | undefined>;
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
  /** The message value, base64; null when it had none. */
  readonly raw: string | null;
  /** The start of the value decoded as UTF-8 (invalid bytes as U+FFFD), to read. */
  readonly rawPreview: string | null;
  /** Why: not-json, schema, empty, too-large, store-rejected… */
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
export type RequestInfo = { readonly requestId: string; readonly method: string; readonly path: string };

export type EdgeOptions = {
  /** Largest request body, in bytes, counted while reading. */
  readonly maxBodyBytes: number;
  /** Largest number of events in one POST (1000 by the API contract). */
  readonly maxBatchEvents: number;
  /** Which field keys an event's Kafka message (default userId). */
  readonly partitionKey?: PartitionKeyMode;
  /** Bodies at least this large go to `EdgeDeps.decoder` when there is one. */
  readonly decodeInPoolFromBytes?: number;
  /** When non-empty, every /v1/* route needs one of these keys. */
  readonly apiKeys: readonly string[];
  /** Called with the number of events published by a request that answered 202. */
  onAccepted?(n: number): void;
  /** Called with the number of events that failed validation. */
  onRejected?(n: number): void;
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

export type EdgeDeps = {
  readonly ingest: IngestPort;
  readonly queries: QueryPort;
  readonly health: HealthPort;
  readonly metrics: MetricsPort;
  /** Absent in a process that runs no workers and knows no directory: the routes answer 404. */
  readonly actors?: ActorsPort;
  /** Decodes large bodies off the event loop; without it every body is decoded inline. */
  readonly decoder?: BodyDecoder;
  readonly options: EdgeOptions;
};
