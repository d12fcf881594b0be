// GET /v1/analytics/summary, GET /v1/stream and GET /v1/admin/lag (DESIGN.md *Live*).
// Rule: the summary is read from the live port (Redis) only, never the store; a query
// parameter these routes do not know is a 400 naming it; a dependency that does not answer
// is a 503 with Retry-After, never a 500; and /v1/stream refuses the client beyond
// KEYFLOW_MAX_STREAM_CLIENTS with 503, and beyond KEYFLOW_STREAMS_PER_KEY streams of one API
// key (of one client address without keys) with 429, before it opens the stream.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError, LagUnavailableError, LiveUnavailableError, RateLimitedError, TooManyStreamsError } from '../errors.ts';
import { StreamHub, type EventFilter } from '../live/stream-hub.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import type { LivePort, StreamOptions } from '../ports.ts';
import { commaList } from '../query/window.ts';


/** The query of GET /v1/analytics/summary and GET /v1/admin/lag: none. */
export const noQuerySchema = z.strictObject({});

/** The query of GET /v1/stream. */
export const streamQuerySchema = z.strictObject({
  events: z.enum(['true', 'false']).optional(),
  type: commaList(64).optional(),
  source: commaList(64).optional(),
  userId: z.string().min(1).max(128).optional(),
});

function parse<S extends z.ZodType>(schema: S, raw: Record<string, string>): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({
    path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.map(String).join('.'),
    message: i.code === 'unrecognized_keys' ? 'unknown parameter' : i.message,
  }));
  throw new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
}

/** The filter of a stream query; undefined when it asked for no events. */
export function streamFilter(raw: Record<string, string>): EventFilter | undefined {
  const q = parse(streamQuerySchema, raw);
  if (q.events !== 'true') {
    const stray = (['type', 'source', 'userId'] as const).filter((k) => q[k] !== undefined);
    if (stray.length > 0) {
      throw new InvalidQueryError(`${stray.join(', ')}: filters apply only with events=true`, { details: stray.map((path) => ({ path, message: 'applies only with events=true' })) });
    }
    return undefined;
  }
  return {
    ...(q.type === undefined ? {} : { types: new Set(q.type) }),
    ...(q.source === undefined ? {} : { sources: new Set(q.source) }),
    ...(q.userId === undefined ? {} : { userId: q.userId }),
  };
}

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) });

/** The answer of GET /v1/analytics/summary (and the data of each `summary` stream event). */
export const liveSummarySchema = z.object({
  at: z.iso.datetime().describe('when the summary was taken: the last millisecond of the last whole second; every window is (at − w, at], current minute included'),
  eventsLastMinute: z.number().int().min(0).describe('events whose occurredAt is in (at − 60 s, at]'),
  eventsPerSecond: z.number().min(0).describe('the mean over the last 10 s: events whose occurredAt is in (at − 10 s, at], divided by 10'),
  activeUsers: z.object({ '1m': z.number().int().min(0), '5m': z.number().int().min(0), '30m': z.number().int().min(0) }).describe('distinct userIds with a stored event whose occurredAt is in (at − window, at]'),
  topTypes: z.array(z.object({ type: z.string(), events: z.number().int().min(1) })).max(10).describe('events per type whose occurredAt is in (at − 5 min, at], events desc then type; at most 10'),
});

/** The answer of GET /v1/admin/lag. */
export const lagReportSchema = z.object({
  group: z.string(),
  topic: z.string(),
  totalLag: z.number().int().min(0),
  maxLag: z.number().int().min(0),
  partitions: z.array(
    z.object({
      partition: z.number().int().min(0),
      committedOffset: z.number().int().min(0).nullable().describe('the next offset the group will read; null when it never committed'),
      highWatermark: z.number().int().min(0),
      lag: z.number().int().min(0).describe('highWatermark − committedOffset (from the log start when nothing was committed)'),
      owner: z.object({ process: z.string(), workerId: z.number().int().min(0) }).nullable().describe('who holds the partition now; null when nobody (or the group is rebalancing)'),
    }),
  ),
});

const unavailable = (what: string) => ({ description: `${what} (Retry-After)`, schema: errorSchema });

/** How the live routes describe themselves for /openapi.json. */
export const liveDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/analytics/summary',
    summary: 'The live view, from Redis only',
    query: noQuerySchema,
    responses: { 200: { description: 'the summary', schema: liveSummarySchema }, 400: { description: 'an unknown parameter', schema: errorSchema }, 503: unavailable('Redis is not reachable (redis_unavailable)') },
    auth: 'read',
    tags: ['live'],
  },
  {
    method: 'get',
    path: '/v1/stream',
    summary: 'Server-sent events: `summary` once a second; with events=true, `event` (id partition:offset) for each newly stored matching event',
    description: 'A comment line every 15 s keeps proxies open. A client that reads too slowly misses events (a comment line says how many); keyflow never queues more than KEYFLOW_STREAM_QUEUE_BYTES for it.',
    query: streamQuerySchema,
    responses: {
      200: { description: 'an event stream (text/event-stream); summary data as GET /v1/analytics/summary, event data the stored event', contentType: 'text/event-stream' },
      400: { description: 'a bad or unknown parameter, or a filter without events=true', schema: errorSchema },
      429: { description: 'this API key (this address, without keys) has KEYFLOW_STREAMS_PER_KEY streams open already (rate_limited, Retry-After)', schema: errorSchema },
      503: unavailable('KEYFLOW_MAX_STREAM_CLIENTS clients are connected (too_many_streams)'),
    },
    auth: 'read',
    tags: ['live'],
  },
  {
    method: 'get',
    path: '/v1/admin/lag',
    summary: 'Consumer lag per partition of the events topic, with the owner of each',
    query: noQuerySchema,
    responses: { 200: { description: 'the lag', schema: lagReportSchema }, 400: { description: 'an unknown parameter', schema: errorSchema }, 503: unavailable('Kafka did not answer (kafka_unavailable)') },
    auth: 'admin',
    tags: ['live'],
  },
];

/** Streams one key (or address) may hold when StreamOptions.maxPerKey is not given. */
const DEFAULT_STREAMS_PER_KEY = 5;
/** Retry-After of a refused stream: a slot frees only when a stream of the same key ends. */
const RETRY_STREAM_SECONDS = 5;

/** Concurrent streams per owner; an owner with none holds no memory. */
class StreamSlots {
  readonly #open = new Map<string, number>();
  constructor(readonly max: number) {}
  tryAcquire(owner: string): boolean {
    const n = this.#open.get(owner) ?? 0;
    if (n >= this.max) return false;
    this.#open.set(owner, n + 1);
    return true;
  }
  release(owner: string): void {
    const n = (this.#open.get(owner) ?? 1) - 1;
    if (n <= 0) this.#open.delete(owner);
    else this.#open.set(owner, n);
  }
}

/**
 * The live routes.
 *
 * @example
 * app.route('/', liveRoutes(deps.live, { maxClients: 100, maxQueuedBytes: 1024 * 1024 }));
 */
export function liveRoutes(live: LivePort, stream: StreamOptions): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const hub = new StreamHub(live, stream);
  const perKey = new StreamSlots(stream.maxPerKey ?? DEFAULT_STREAMS_PER_KEY);

  app.get('/v1/analytics/summary', async (c) => {
    parse(noQuerySchema, c.req.query());
    try {
      return c.json(await live.summary());
    } catch (e) {
      throw new LiveUnavailableError('the live view (Redis) is not reachable', { cause: e });
    }
  });

  app.get('/v1/admin/lag', async (c) => {
    parse(noQuerySchema, c.req.query());
    try {
      return c.json(await live.lag());
    } catch (e) {
      throw new LagUnavailableError('Kafka did not answer the lag query', { cause: e });
    }
  });

  app.get('/v1/stream', async (c) => {
    const filter = streamFilter(c.req.query());
    const key = c.get('apiKeyName');
    const owner = key === undefined ? `address ${c.get('clientAddress') ?? 'unknown'}` : `key ${key}`;
    if (!perKey.tryAcquire(owner)) {
      stream.onRejected?.();
      throw new RateLimitedError(`${perKey.max} streams of this ${key === undefined ? 'address' : 'API key'} are open already (KEYFLOW_STREAMS_PER_KEY); close one first`, RETRY_STREAM_SECONDS, {
        details: { max: perKey.max },
      });
    }
    if (!hub.tryAcquire()) {
      perKey.release(owner);
      stream.onRejected?.();
      throw new TooManyStreamsError(`${stream.maxClients} stream clients are connected already (KEYFLOW_MAX_STREAM_CLIENTS)`);
    }
    if (filter !== undefined) {
      try {
        await hub.ensureFeed();
      } catch (e) {
        hub.release();
        perKey.release(owner);
        throw new LiveUnavailableError('the event feed (Redis) is not reachable', { cause: e });
      }
    }
    c.header('X-Accel-Buffering', 'no');
    const signal = c.req.raw.signal;
    return streamSSE(c, async (s) => {
      const ended = new AbortController();
      s.onAbort(() => ended.abort());
      signal.addEventListener('abort', () => ended.abort(), { once: true });
      // At shutdown a client that does not read would hold its write, and the server, open.
      const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
      const shutdown = () => {
        s.abort();
        outgoing?.destroy();
      };
      stream.signal?.addEventListener('abort', shutdown, { once: true });
      ended.signal.addEventListener('abort', () => stream.signal?.removeEventListener('abort', shutdown), { once: true });
      try {
        await hub.serve({ write: (frame) => s.write(frame), get closed() { return s.closed || s.aborted; } }, filter, ended.signal);
      } catch {
        // the feed went away (Redis); the client reconnects, as EventSource does by itself
      } finally {
        perKey.release(owner);
      }
    });
  });
  return app;
}
