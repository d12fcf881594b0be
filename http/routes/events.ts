// POST /v1/events and GET /v1/events/:id. Rule: 202 means every event it counts as accepted
// was acknowledged by Kafka — the answer is written only after publish resolved, and when
// publish fails nothing of the request is reported as accepted.
import { Hono } from 'hono';
import { codePointLength, retentionCutoffMs, truncateCodePoints } from '../../actors/index.ts';
import { decodeBody, type RejectedEvent } from '../ingest/decode-body.ts';
import { readBody } from '../ingest/read-body.ts';
import type { EdgeEnv } from '../env.ts';
import {
  InvalidBodyError,
  InvalidJsonError,
  KafkaUnavailableError,
  NotFoundError,
  TooManyEventsError,
  ValidationFailedError,
} from '../errors.ts';
import type { BodyDecoder, EdgeOptions, IngestPort, QueryPort } from '../ports.ts';

export type { RejectedEvent };

/** The answer to POST /v1/events (202, and beside `error` on 400/503). */
export type IngestSummary = {
  readonly accepted: number;
  readonly ids: readonly string[];
  readonly rejected: readonly RejectedEvent[];
};

/** In code points, as the event schema counts it. */
const MAX_EVENT_ID_LENGTH = 128;
const DEFAULT_BODY_TIMEOUT_MS = 15_000;

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
    const days = options.retentionDays;
    const per = days === undefined ? {} : { retention: { cutoffMs: retentionCutoffMs(now(), days), days } };
    // Large bodies are decoded off the event loop, so one 1000-event batch cannot stall
    // every other request; small ones are cheaper inline than a thread hop.
    const pooled = decoder !== undefined && bytes.byteLength >= (options.decodeInPoolFromBytes ?? Number.POSITIVE_INFINITY);
    const decoded = pooled ? await decoder.decode(bytes, per) : decodeBody(bytes, { maxBatchEvents: options.maxBatchEvents, partitionKey: options.partitionKey ?? 'userId', ...per });
    if (!decoded.ok) {
      if (decoded.code === 'invalid_json') throw new InvalidJsonError(decoded.message);
      if (decoded.code === 'invalid_body') throw new InvalidBodyError(decoded.message);
      throw new TooManyEventsError(decoded.message, { details: { maxBatchEvents: options.maxBatchEvents, received: decoded.received } });
    }
    const { events, rejected } = decoded;
    if (rejected.length > 0) options.onRejected?.(rejected.length);

    if (events.length === 0) {
      const summary: IngestSummary = { accepted: 0, ids: [], rejected };
      throw new ValidationFailedError(
        decoded.total === 1 ? `the event is invalid: ${describe(rejected)}` : `none of the ${decoded.total} events is valid`,
        { extra: summary },
      );
    }

    try {
      await ingest.publish(events, c.req.raw.signal);
    } catch (cause) {
      options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, ...keyOf(c.get('apiKeyName')) });
      const summary: IngestSummary = { accepted: 0, ids: [], rejected };
      throw new KafkaUnavailableError('Kafka did not acknowledge the events; none was accepted, retry the whole request', {
        cause,
        extra: summary,
      });
    }

    options.onAccepted?.(events.length);
    const summary: IngestSummary = { accepted: events.length, ids: events.map((e) => e.id), rejected };
    return c.json(summary, 202);
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    // The schema's unit (code points): an id accepted at ingest is never "too long" here.
    const event = codePointLength(id) <= MAX_EVENT_ID_LENGTH ? await queries.getEvent(id) : undefined;
    if (event === undefined) throw new NotFoundError(`no event with id ${JSON.stringify(truncateCodePoints(id, 64))}`);
    return c.json(event);
  });

  return app;
}

function describe(rejected: readonly RejectedEvent[]): string {
  return (rejected[0]?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
}

function keyOf(name: string | undefined): { key?: string } {
  return name === undefined ? {} : { key: name };
}
