// `keyflow/client`: a dependency-free TypeScript client for Node ≥ 20, Deno and browsers
// (only fetch and Web Crypto). Rule: every method maps to one route of DESIGN.md, its types
// come from the server's own (type-only imports, erased at run time), and every call retries
// what can succeed later (see transport.ts).
//
// @example
// import { createClient } from 'keyflow/client';
// const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.KEYFLOW_KEY });
// await kf.send({ type: 'page.view', source: 'web', userId: 'u-1' });
// const report = await kf.reportEvents({ groupBy: 'type,source' });
// await kf.close();
import type { EventInput } from '../../actors/index.ts';
import type { ActorView, DeadLetterPage, Readiness, StoredEvent } from '../ports.ts';
import type { StreamSummary } from '../routes/event-stream.ts';
import { KeyflowRequestError } from './errors.ts';
import { EventSender, type ClientOptions, type SendableEvent, type SendResult } from './client.ts';
import { call } from './transport.ts';
import { uuidv7 } from './uuid.ts';

export { KeyflowEventRejectedError, KeyflowRequestError, KeyflowUnavailableError } from './errors.ts';
export { uuidv7 } from './uuid.ts';
export type { ClientOptions, SendableEvent, SendResult };

/** Query parameters: values are sent as given (arrays as comma lists, Dates as RFC 3339). */
export type Query = Readonly<Record<string, string | number | boolean | Date | readonly string[] | undefined>>;

/** The routes that answer CSV too (DESIGN.md: every report and the time series). */
export type CsvRoute = 'reports/events' | 'reports/revenue' | 'reports/demographics' | 'analytics/timeseries';

/** The client: send() and stream() to ingest, one typed method per read route. */
export type KeyflowClient = {
  /** Queue one event (batched with others); resolves once keyflow accepted it. */
  send(event: SendableEvent): Promise<SendResult>;
  sendAll(events: Iterable<SendableEvent>): Promise<SendResult[]>;
  /** Send what is queued now. */
  flush(): Promise<void>;
  /** Send what is queued and wait for every answer; idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * POST /v1/events/stream. An array (or any re-iterable) is resent whole when keyflow
   * answers 503 or the connection fails; an async iterable is sent once.
   */
  stream(events: Iterable<SendableEvent> | AsyncIterable<SendableEvent>): Promise<StreamSummary>;
  getEvent(id: string): Promise<StoredEvent | undefined>;
  listEvents(q?: Query): Promise<{ events: StoredEvent[]; nextCursor?: string }>;
  reportEvents(q?: Query): Promise<Record<string, unknown>>;
  reportRevenue(q?: Query): Promise<Record<string, unknown>>;
  reportDemographics(q: Query & { by: string }): Promise<Record<string, unknown>>;
  timeseries(q: Query & { interval: string }): Promise<Record<string, unknown>>;
  funnel(q: Query & { steps: string | readonly string[] }): Promise<Record<string, unknown>>;
  /** A report or the time series as CSV (`format=csv`): RFC 4180 text, the same numbers as the JSON. */
  csv(route: CsvRoute, q?: Query): Promise<string>;
  user(userId: string): Promise<Record<string, unknown> | undefined>;
  eraseUser(userId: string): Promise<{ erasureId: string; status: 'pending' }>;
  erasure(id: string): Promise<Record<string, unknown> | undefined>;
  summary(): Promise<Record<string, unknown>>;
  lag(): Promise<Record<string, unknown>>;
  deadLetters(q?: Query): Promise<DeadLetterPage>;
  actor(key: string): Promise<ActorView | undefined>;
  ready(): Promise<Readiness>;
};

/**
 * A client for the keyflow at `baseUrl`.
 *
 * @example
 * const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', batchSize: 500, lingerMs: 20 });
 */
export function createClient(options: ClientOptions): KeyflowClient {
  const sender = new EventSender(options);
  const get = async <T>(path: string, q?: Query): Promise<T> => (await call(options, 'GET', path + queryString(q))).body as T;
  // A 404 is an answer ("no such thing"), not a failure, for lookups by id.
  const find = async <T>(path: string): Promise<T | undefined> => {
    const a = await call(options, 'GET', path, { accept: (s) => s === 200 || s === 404 });
    return a.status === 404 ? undefined : (a.body as T);
  };
  const seg = encodeURIComponent;
  return {
    send: (e) => sender.send(e),
    sendAll: (es) => sender.sendAll(es),
    flush: () => sender.flush(),
    close: () => sender.close(),
    [Symbol.asyncDispose]: () => sender.close(),
    stream: (events) => streamEvents(options, events),
    getEvent: (id) => find(`/v1/events/${seg(id)}`),
    listEvents: (q) => get('/v1/events', q),
    reportEvents: (q) => get('/v1/reports/events', q),
    reportRevenue: (q) => get('/v1/reports/revenue', q),
    reportDemographics: (q) => get('/v1/reports/demographics', q),
    timeseries: (q) => get('/v1/analytics/timeseries', q),
    funnel: (q) => get('/v1/analytics/funnel', q),
    csv: async (route, q) => (await call(options, 'GET', `/v1/${route}${queryString({ ...q, format: 'csv' })}`, { headers: { accept: 'text/csv' } })).text,
    user: (userId) => find(`/v1/users/${seg(userId)}`),
    eraseUser: async (userId) => (await call(options, 'DELETE', `/v1/users/${seg(userId)}`)).body as { erasureId: string; status: 'pending' },
    erasure: (id) => find(`/v1/erasures/${seg(id)}`),
    summary: () => get('/v1/analytics/summary'),
    lag: () => get('/v1/admin/lag'),
    deadLetters: (q) => get('/v1/dead-letters', q),
    actor: (key) => find(`/v1/actors/${seg(key)}`),
    ready: async () => (await call(options, 'GET', '/readyz', { accept: (s) => s === 200 || s === 503 })).body as Readiness,
  };
}

function queryString(q: Query | undefined): string {
  if (q === undefined) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    p.set(k, v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : String(v));
  }
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}

async function streamEvents(options: ClientOptions, events: Iterable<SendableEvent> | AsyncIterable<SendableEvent>): Promise<StreamSummary> {
  const reiterable = Symbol.iterator in events;
  // Identities fixed once, so a resent stream is the same stream.
  const fixed: EventInput[] | undefined = reiterable ? [...(events as Iterable<SendableEvent>)].map(fix) : undefined;
  const body = (): ReadableStream<Uint8Array> => {
    const source: AsyncIterator<SendableEvent> | Iterator<SendableEvent> = fixed !== undefined ? fixed[Symbol.iterator]() : (events as AsyncIterable<SendableEvent>)[Symbol.asyncIterator]();
    const enc = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        const lines: string[] = [];
        for (let i = 0; i < 200; i++) {
          const r = await source.next();
          if (r.done === true) break;
          lines.push(JSON.stringify(fixed !== undefined ? r.value : fix(r.value)));
        }
        if (lines.length === 0) ctrl.close();
        else ctrl.enqueue(enc.encode(`${lines.join('\n')}\n`));
      },
    });
  };
  const once = reiterable ? options : { ...options, deadlineMs: 0 };
  const a = await call(once, 'POST', '/v1/events/stream', {
    body,
    headers: { 'content-type': 'application/x-ndjson' },
    accept: (s) => s === 202 || s === 400,
  });
  if (a.status === 400 && typeof a.body === 'object' && a.body !== null && !('accepted' in a.body)) {
    throw new KeyflowRequestError(`POST /v1/events/stream answered 400: ${a.text.slice(0, 200)}`, 400, a.body);
  }
  return a.body as StreamSummary;
}

function fix(e: SendableEvent): EventInput {
  return { ...e, id: e.id ?? uuidv7(), occurredAt: e.occurredAt ?? new Date().toISOString() } as EventInput;
}
