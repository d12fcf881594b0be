// POST /v1/events and GET /v1/events/:id. Rule: 202 means every event it counts as accepted
// was acknowledged by Kafka — the answer is written only after publish resolved, and when
// publish fails nothing of the request is reported as accepted.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { validateEvent, type FieldError, type KeyflowEvent } from '../../actors/index.ts';
import type { EdgeEnv } from '../env.ts';
import {
  InvalidBodyError,
  InvalidJsonError,
  KafkaUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  TooManyEventsError,
  ValidationFailedError,
} from '../errors.ts';
import type { EdgeOptions, IngestPort, QueryPort } from '../ports.ts';

/** One event of a batch that failed validation, by its position in the batch. */
export type RejectedEvent = { readonly index: number; readonly errors: readonly FieldError[] };

/** The answer to POST /v1/events (202, and beside `error` on 400/503). */
export type IngestSummary = {
  readonly accepted: number;
  readonly ids: readonly string[];
  readonly rejected: readonly RejectedEvent[];
};

const MAX_EVENT_ID_LENGTH = 128;

/**
 * The event routes.
 *
 * @example
 * app.route('/v1/events', eventRoutes(deps.ingest, deps.queries, deps.options));
 */
export function eventRoutes(ingest: IngestPort, queries: QueryPort, options: EdgeOptions): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const tooLarge = (): never => {
    throw new PayloadTooLargeError(`the body exceeds ${options.maxBodyBytes} bytes`, {
      details: { maxBodyBytes: options.maxBodyBytes },
    });
  };

  app.post('/', bodyLimit({ maxSize: options.maxBodyBytes, onError: tooLarge }), async (c) => {
    const bytes = await c.req.arrayBuffer();
    // bodyLimit trusts a Content-Length header; this catches a body longer than it claimed.
    if (bytes.byteLength > options.maxBodyBytes) tooLarge();
    const items = batchOf(parseJson(bytes));
    if (items.length > options.maxBatchEvents) {
      throw new TooManyEventsError(`a request holds at most ${options.maxBatchEvents} events, this one ${items.length}`, {
        details: { maxBatchEvents: options.maxBatchEvents, received: items.length },
      });
    }

    const valid: KeyflowEvent[] = [];
    const rejected: RejectedEvent[] = [];
    items.forEach((item, index) => {
      const v = validateEvent(item);
      if (v.ok) valid.push(v.event);
      else rejected.push({ index, errors: v.errors });
    });
    if (rejected.length > 0) options.onRejected?.(rejected.length);

    if (valid.length === 0) {
      const summary: IngestSummary = { accepted: 0, ids: [], rejected };
      throw new ValidationFailedError(
        items.length === 1 ? `the event is invalid: ${describe(rejected)}` : `none of the ${items.length} events is valid`,
        { extra: summary },
      );
    }

    try {
      await ingest.publish(valid, c.req.raw.signal);
    } catch (cause) {
      options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      const summary: IngestSummary = { accepted: 0, ids: [], rejected };
      throw new KafkaUnavailableError('Kafka did not acknowledge the events; none was accepted, retry the whole request', {
        cause,
        extra: summary,
      });
    }

    options.onAccepted?.(valid.length);
    const summary: IngestSummary = { accepted: valid.length, ids: valid.map((e) => e.id), rejected };
    return c.json(summary, 202);
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const event = id.length <= MAX_EVENT_ID_LENGTH ? await queries.getEvent(id) : undefined;
    if (event === undefined) throw new NotFoundError(`no event with id ${JSON.stringify(truncate(id))}`);
    return c.json(event);
  });

  return app;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: ArrayBuffer): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new InvalidJsonError('the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new InvalidJsonError('the body is empty; send one event, an array of events or { "events": [...] }');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InvalidJsonError(`the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** The events of a body: one event, an array of events, or `{ "events": [...] }`. */
function batchOf(body: unknown): readonly unknown[] {
  let items: readonly unknown[];
  if (Array.isArray(body)) items = body;
  else if (isPlainObject(body) && Object.hasOwn(body, 'events')) {
    // An event never has an `events` field (the schema is strict), so this is the envelope.
    const extra = Object.keys(body).filter((k) => k !== 'events');
    if (!Array.isArray(body.events)) throw new InvalidBodyError('"events" must be an array of events');
    if (extra.length > 0) throw new InvalidBodyError(`unknown field(s) beside "events": ${extra.join(', ')}`);
    items = body.events;
  } else if (isPlainObject(body)) items = [body];
  else throw new InvalidBodyError('the body must be one event (an object), an array of events or { "events": [...] }');
  if (items.length === 0) throw new InvalidBodyError('the batch holds no events');
  return items;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(rejected: readonly RejectedEvent[]): string {
  return (rejected[0]?.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ');
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
