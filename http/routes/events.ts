// POST /v1/events and GET /v1/events/:id. Rule: 202 means every event it counts as accepted
// was acknowledged by Kafka — the answer is written only after publish resolved, and when
// publish fails nothing of the request is reported as accepted.
import { Hono } from 'hono';
import { z } from 'zod';
import { truncateCodePoints } from '../../actors/index.ts';
import { acceptedInstants, decodeBody, type RejectedEvent } from '../ingest/decode-body.ts';
import { eventBytes, isEventTooLarge, tooLargeMessage } from '../ingest/event-size.ts';
import { readBody } from '../ingest/read-body.ts';
import type { EdgeEnv } from '../env.ts';
import {
  EventTooLargeError,
  InvalidBodyError,
  InvalidJsonError,
  KafkaUnavailableError,
  NotFoundError,
  TooManyEventsError,
  ValidationFailedError,
} from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { count, errorSchema, eventComponent, fieldErrorSchema, storedEventSchema } from '../openapi/schemas.ts';
import type { BodyDecoder, EdgeOptions, IngestPort, QueryPort } from '../ports.ts';
import { queryText } from '../query/window.ts';
import { boundErrors, MAX_ERROR_TEXT, MAX_ERRORS_PER_ITEM, MAX_REJECTED_BYTES, RejectionBudget } from '../ingest/rejections.ts';

export type { RejectedEvent };

/** The answer to POST /v1/events (202, and beside `error` on 400/503). */
export type IngestSummary = {
  readonly accepted: number;
  readonly ids: readonly string[];
  readonly rejected: readonly RejectedEvent[];
  /** Present when some rejections' errors were left out (the list passed MAX_REJECTED_BYTES). */
  readonly rejectedTruncated?: true;
};

/** In code points, as the event schema counts it. */
const MAX_EVENT_ID_LENGTH = 128;
const MAX_BATCH_EVENTS = 1000;
const DEFAULT_BODY_TIMEOUT_MS = 15_000;

/** The three bodies POST /v1/events takes (the envelope is checked by decodeBody, each event by eventSchema). */
const ingestBodySchema = z.union([
  eventComponent,
  z.array(eventComponent).min(1).max(MAX_BATCH_EVENTS),
  z.strictObject({ events: z.array(eventComponent).min(1).max(MAX_BATCH_EVENTS) }),
]);

/** The answer to POST /v1/events: 202, and the same fields beside `error` on 400/503. */
export const ingestSummarySchema = z
  .object({
    accepted: count,
    ids: z.array(z.string()),
    rejected: z.array(z.object({ index: count, errors: z.array(fieldErrorSchema) })),
    rejectedTruncated: z
      .literal(true)
      .optional()
      .describe(`present when errors were left out: each rejection lists at most ${MAX_ERRORS_PER_ITEM} errors of ${MAX_ERROR_TEXT} characters, and the list at most ${MAX_REJECTED_BYTES} bytes (every rejected index is still listed)`),
  })
  .meta({ id: 'IngestSummary' });

/** An ingest error: the error body, with the summary beside it when events were looked at (validation_failed, kafka_unavailable). */
const ingestErrorSchema = errorSchema
  .extend({
    accepted: ingestSummarySchema.shape.accepted.optional(),
    ids: ingestSummarySchema.shape.ids.optional(),
    rejected: ingestSummarySchema.shape.rejected.optional(),
    rejectedTruncated: ingestSummarySchema.shape.rejectedTruncated,
  })
  .meta({ id: 'IngestError' });

/** `GET /v1/events/:id`: an id no event can have (too long, NUL, lone surrogate) matches nothing (404). */
const eventIdParams = z.object({ id: queryText(MAX_EVENT_ID_LENGTH) });

/** How the event routes describe themselves in /openapi.json. */
export const eventDocs: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/events',
    summary: 'Ingest one event, an array of events, or { "events": [...] } (at most 1000)',
    description: 'Answers 202 only after Kafka acknowledged every valid event; invalid events are listed by index in rejected.',
    body: ingestBodySchema,
    auth: 'ingest',
    responses: {
      202: { description: 'The valid events were acknowledged by Kafka; invalid ones are listed by index', schema: ingestSummarySchema },
      400: {
        description: 'Malformed JSON (invalid_json), a body of no accepted shape (invalid_body), or no valid event (validation_failed, with the IngestSummary fields)',
        schema: ingestErrorSchema,
      },
      401: { description: 'API key missing or wrong (unauthorized)', schema: errorSchema },
      403: { description: 'The API key lacks the ingest scope (forbidden)', schema: errorSchema },
      408: { description: 'The body did not arrive within KEYFLOW_BODY_TIMEOUT_MS (request_timeout)', schema: errorSchema },
      413: {
        description: 'Body larger than the limit (payload_too_large), more than 1000 events (too_many_events), or an event larger than one Kafka message of the topic may be (event_too_large, naming the limit; nothing was produced)',
        schema: ingestErrorSchema,
      },
      415: { description: 'A Content-Encoding other than gzip or identity (unsupported_encoding)', schema: errorSchema },
      429: { description: 'The API key is over its rate limit (rate_limited), with Retry-After', schema: errorSchema },
      503: { description: 'Kafka did not acknowledge (kafka_unavailable); nothing was accepted, a retry is safe', schema: ingestErrorSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/events/:id',
    summary: 'A stored event by id (the newest when several share it)',
    params: eventIdParams,
    auth: 'read',
    responses: {
      200: { description: 'The stored event', schema: storedEventSchema },
      404: { description: 'No such event (not_found)', schema: errorSchema },
    },
  },
];

/**
 * The event routes.
 *
 * @example
 * app.route('/v1/events', eventRoutes(deps.ingest, deps.queries, deps.options));
 */
export function eventRoutes(ingest: IngestPort, queries: QueryPort, options: EdgeOptions, decoder?: BodyDecoder): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const now = options.now ?? Date.now;

  app.post('/', async (c) => {
    const bytes = await readBody(c.req.raw, { maxBytes: options.maxBodyBytes, deadlineMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS });
    // The retention window as of this request: what is accepted is never dropped by the
    // next maintenance run (DESIGN.md, Guarantees).
    // And no further ahead of the clock than KEYFLOW_MAX_FUTURE.
    const per = acceptedInstants(options, now());
    // Large bodies are decoded off the event loop, so one 1000-event batch cannot stall
    // every other request; small ones are cheaper inline than a thread hop.
    const pooled = decoder !== undefined && bytes.byteLength >= (options.decodeInPoolFromBytes ?? Number.POSITIVE_INFINITY);
    const decoded = pooled ? await decoder.decode(bytes, per) : decodeBody(bytes, { maxBatchEvents: options.maxBatchEvents, partitionKey: options.partitionKey ?? 'userId', ...per });
    if (!decoded.ok) {
      if (decoded.code === 'invalid_json') throw new InvalidJsonError(decoded.message);
      if (decoded.code === 'invalid_body') throw new InvalidBodyError(decoded.message);
      throw new TooManyEventsError(decoded.message, { details: { maxBatchEvents: options.maxBatchEvents, received: decoded.received } });
    }
    const { events } = decoded;
    const { rejected, truncated } = boundRejections(decoded.rejected);
    if (rejected.length > 0) options.onRejected?.(rejected.length);

    if (events.length === 0) {
      const summary: IngestSummary = { accepted: 0, ids: [], rejected, ...truncated };
      throw new ValidationFailedError(
        decoded.total === 1 ? `the event is invalid: ${describe(rejected)}` : `none of the ${decoded.total} events is valid`,
        { extra: summary },
      );
    }

    // Before anything is produced: an event no Kafka message can hold fails the request whole.
    const limit = ingest.eventSizeLimit?.();
    const over = limit === undefined ? -1 : events.findIndex((e) => tooLargeMessage(e, limit) !== undefined);
    if (limit !== undefined && over >= 0) {
      const index = eventIndex(over, rejected);
      throw new EventTooLargeError(`event ${index}: ${tooLargeMessage(events[over]!, limit)}; nothing was accepted`, {
        details: { index, eventBytes: eventBytes(events[over]!), maxEventBytes: limit.maxEventBytes, maxMessageBytes: limit.maxMessageBytes, limit: limit.source },
        extra: { accepted: 0, ids: [], rejected } satisfies IngestSummary,
      });
    }

    try {
      await ingest.publish(events, c.req.raw.signal);
    } catch (cause) {
      if (isEventTooLarge(cause)) throw new EventTooLargeError(`${(cause as Error).message}; nothing was accepted`, { cause, extra: { accepted: 0, ids: [], rejected } satisfies IngestSummary });
      options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, ...keyOf(c.get('apiKeyName')) });
      const summary: IngestSummary = { accepted: 0, ids: [], rejected, ...truncated };
      throw new KafkaUnavailableError('Kafka did not acknowledge the events; none was accepted, retry the whole request', {
        cause,
        extra: summary,
      });
    }

    options.onAccepted?.(events.length);
    const summary: IngestSummary = { accepted: events.length, ids: events.map((e) => e.id), rejected, ...truncated };
    return c.json(summary, 202);
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    // An id no event can have (longer than 128 code points, the schema's unit; NUL) matches nothing.
    const event = eventIdParams.safeParse({ id }).success ? await queries.getEvent(id, c.req.raw.signal) : undefined;
    if (event === undefined) throw new NotFoundError(`no event with id ${JSON.stringify(truncateCodePoints(id, 64))}`);
    return c.json(event);
  });

  return app;
}

/**
 * Every rejected index stays listed (a client learns which events to fix); their errors are
 * bounded, and once MAX_REJECTED_BYTES of them are listed the rest keep one line saying so.
 */
function boundRejections(all: readonly RejectedEvent[]): { rejected: RejectedEvent[]; truncated: { rejectedTruncated?: true } } {
  const budget = new RejectionBudget();
  const rejected = all.map((r) => {
    const errors = boundErrors(r.errors);
    return { index: r.index, errors: budget.take(errors) ? errors : [{ path: '', message: `errors not listed: the answer lists at most ${MAX_REJECTED_BYTES} bytes of errors` }] };
  });
  return { rejected, truncated: budget.exhausted || all.some((r) => r.errors.length > MAX_ERRORS_PER_ITEM) ? { rejectedTruncated: true } : {} };
}

/** The index in the request of the `valid`-th valid event (the rejected ones hold the other indexes). */
function eventIndex(valid: number, rejected: readonly RejectedEvent[]): number {
  const skipped = new Set(rejected.map((r) => r.index));
  for (let i = 0, seen = -1; ; i++) {
    if (skipped.has(i)) continue;
    if (++seen === valid) return i;
  }
}

function describe(rejected: readonly RejectedEvent[]): string {
  return (rejected[0]?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
}

function keyOf(name: string | undefined): { key?: string } {
  return name === undefined ? {} : { key: name };
}
