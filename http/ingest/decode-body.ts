// Turns a POST /v1/events body into Kafka-ready messages. Rule: this is a pure function of
// the bytes — parse, shape, limit, validate, encode — with failures as values, so the edge
// can run it inline or in a worker pool and get the very same answer either way.
import { encodeEvent, partitionKeyOf, validateEvent, type FieldError, type PartitionKeyMode } from '../../actors/index.ts';

/** A validated event, encoded for Kafka. */
export type EncodedEvent = { readonly id: string; readonly key: string; readonly value: string };

/** One event of a batch that failed validation, by its position in the batch. */
export type RejectedEvent = { readonly index: number; readonly errors: readonly FieldError[] };

export type DecodedBody =
  | { readonly ok: true; readonly events: readonly EncodedEvent[]; readonly rejected: readonly RejectedEvent[]; readonly total: number }
  | { readonly ok: false; readonly code: 'invalid_json' | 'invalid_body' | 'too_many_events'; readonly message: string; readonly received?: number };

export type DecodeOptions = {
  readonly maxBatchEvents: number;
  readonly partitionKey: PartitionKeyMode;
  /** Refuse events older than the retention window (cutoff as of the request). */
  readonly retention?: { readonly cutoffMs: number; readonly days: number };
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode a request body: one event, an array of events, or `{ "events": [...] }`.
 *
 * @example
 * decodeBody(new TextEncoder().encode('{"id":"e","type":"t","source":"s","occurredAt":0}'), { maxBatchEvents: 1000, partitionKey: 'userId' });
 */
export function decodeBody(bytes: Uint8Array, options: DecodeOptions): DecodedBody {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'the body is not valid UTF-8' };
  }
  if (text.trim() === '') return { ok: false, code: 'invalid_json', message: 'the body is empty; send one event, an array of events or { "events": [...] }' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: 'invalid_json', message: `the body is not valid JSON: ${(e as Error).message}` };
  }

  let items: readonly unknown[];
  if (Array.isArray(body)) items = body;
  else if (isPlainObject(body) && Object.hasOwn(body, 'events')) {
    // An event never has an `events` field (the schema is strict), so this is the envelope.
    const extra = Object.keys(body).filter((k) => k !== 'events');
    if (!Array.isArray(body['events'])) return { ok: false, code: 'invalid_body', message: '"events" must be an array of events' };
    if (extra.length > 0) return { ok: false, code: 'invalid_body', message: `unknown field(s) beside "events": ${extra.join(', ')}` };
    items = body['events'] as unknown[];
  } else if (isPlainObject(body)) items = [body];
  else return { ok: false, code: 'invalid_body', message: 'the body must be one event (an object), an array of events or { "events": [...] }' };
  if (items.length === 0) return { ok: false, code: 'invalid_body', message: 'the batch holds no events' };
  if (items.length > options.maxBatchEvents) {
    return { ok: false, code: 'too_many_events', message: `a request holds at most ${options.maxBatchEvents} events, this one ${items.length}`, received: items.length };
  }

  const events: EncodedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  items.forEach((item, index) => {
    const v = validateEvent(item, options.retention === undefined ? {} : { retention: options.retention });
    if (v.ok) events.push({ id: v.event.id, key: partitionKeyOf(v.event, options.partitionKey), value: encodeEvent(v.event) });
    else rejected.push({ index, errors: v.errors });
  });
  return { ok: true, events, rejected, total: items.length };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
