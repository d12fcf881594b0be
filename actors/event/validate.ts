// Validation and the wire encoding of events. Expected failures are values, not exceptions:
// a bad event yields its field errors, and a caller decides whether to reject it (HTTP) or
// dead-letter it (Kafka).
//
// Validated once: a message the edge vouches for (its signature, runtime/kafka/trust.ts) is the
// wire form of an event it validated, so decodeEvent(…, { trusted: true }) only rebuilds it —
// to exactly what full validation would return — and validates in full whatever does not even
// look like that wire form.
import { fastEvent } from './fast.ts';
import { expiredMessage, futureMessage } from './retention.ts';
import { eventSchema, type FieldError, type KeyflowEvent } from './schema.ts';

/** What validation needs beyond the schema: the window of instants taken, as of the request. */
export type ValidateOptions = {
  /** Events whose occurredAt is before `cutoffMs` are refused (see retentionCutoffMs). */
  readonly retention?: { readonly cutoffMs: number; readonly days: number };
  /** Events whose occurredAt is after `cutoffMs` are refused (see futureCutoffMs). */
  readonly future?: { readonly cutoffMs: number; readonly maxFutureMs: number };
};

export type Validation =
  | { readonly ok: true; readonly event: KeyflowEvent }
  | { readonly ok: false; readonly errors: readonly FieldError[] };

/**
 * Validate one untrusted value against the event schema.
 *
 * @example
 * const v = validateEvent({ id: 'e1', type: 'ad.click', source: 'tiktok', occurredAt: 0 });
 * if (v.ok) v.event.occurredAt; // 0
 */
export function validateEvent(input: unknown, opts: ValidateOptions = {}): Validation {
  // The common, certainly valid event skips zod (same output; fast.ts); the rest gets zod.
  const fast = fastEvent(input);
  const r = fast !== undefined ? ({ success: true, data: fast } as const) : eventSchema.safeParse(input);
  if (r.success) {
    const { retention } = opts;
    if (retention !== undefined && r.data.occurredAt < retention.cutoffMs) {
      return { ok: false, errors: [{ path: 'occurredAt', message: expiredMessage(retention.cutoffMs, retention.days) }] };
    }
    const { future } = opts;
    if (future !== undefined && r.data.occurredAt > future.cutoffMs) {
      return { ok: false, errors: [{ path: 'occurredAt', message: futureMessage(future.cutoffMs, future.maxFutureMs) }] };
    }
    // What the edge accepts, a worker must be able to take: the wire form has a size limit.
    const bytes = wireBytesAbove(r.data, MAX_EVENT_BYTES);
    if (bytes !== undefined) return { ok: false, errors: [{ path: '(event)', message: `encodes to ${bytes} bytes; at most ${MAX_EVENT_BYTES}` }] };
    return { ok: true, event: r.data };
  }
  return {
    ok: false,
    errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(event)', message: i.message })),
  };
}

export type Decoded =
  | { readonly ok: true; readonly event: KeyflowEvent }
  | { readonly ok: false; readonly reason: 'not-json' | 'schema' | 'empty' | 'too-large'; readonly message: string };

/**
 * The largest event keyflow takes, in bytes of its wire form (encodeEvent, UTF-8). A Kafka
 * message larger than this is a dead letter before it is even parsed, so one huge message
 * cannot stall or exhaust a worker; the edge refuses events that would encode larger.
 */
export const MAX_EVENT_BYTES = 256 * 1024;

export type DecodeOptions = {
  /** Longest value taken, in bytes (default MAX_EVENT_BYTES); a longer one is 'too-large'. */
  readonly maxBytes?: number;
  /**
   * The value is the edge's wire form of an event it validated (the message carries the edge's
   * signature): it is rebuilt, not validated again. Only what is not even shaped like the wire
   * form (not an object, id/type/source not strings, occurredAt not an instant) is validated.
   */
  readonly trusted?: boolean;
};

/**
 * Decode one Kafka message value (UTF-8 JSON) into an event. A value longer than `maxBytes`
 * (default MAX_EVENT_BYTES) is refused unread, with reason 'too-large'.
 *
 * @example
 * decodeEvent(new TextEncoder().encode('{"id":"e1","type":"t","source":"s","occurredAt":0}'));
 * // a message the edge signed (runtime/kafka/trust.ts): same result, without validating again
 * decodeEvent(message.value, { trusted: trust.verify(message.headers, message.key, message.value, { event: true }) });
 */
export function decodeEvent(value: Uint8Array | string | null, opts: DecodeOptions = {}): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty', message: 'message has no value' };
  const maxBytes = opts.maxBytes ?? MAX_EVENT_BYTES;
  // A string's UTF-8 form is at most 3 bytes per UTF-16 unit: measure only when it could be over.
  const bytes = typeof value !== 'string' ? value.length : value.length * 3 <= maxBytes ? 0 : utf8Length(value);
  if (bytes > maxBytes) return { ok: false, reason: 'too-large', message: `message value is ${bytes} bytes; at most ${maxBytes}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : utf8.decode(value));
  } catch (e) {
    return { ok: false, reason: 'not-json', message: `not JSON: ${(e as Error).message}` };
  }
  if (opts.trusted === true) {
    const event = fromWire(parsed);
    if (event !== undefined) return { ok: true, event };
  }
  const v = validateEvent(parsed);
  if (v.ok) return v;
  return { ok: false, reason: 'schema', message: v.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The instants PostgreSQL and RFC 3339 agree on, as in the schema: 0001-01-01 to 9999-12-31. */
const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;

/**
 * The event whose wire form (encodeEvent) `parsed` is, else undefined. The wire form of a
 * validated event has its fields in the schema's order with occurredAt as a string, so setting
 * occurredAt in place gives validateEvent's output, key order included (validate.test.ts checks
 * this over random events). The checks only catch what is not shaped like the wire form.
 */
function fromWire(parsed: unknown): KeyflowEvent | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  if (typeof o['id'] !== 'string' || typeof o['type'] !== 'string' || typeof o['source'] !== 'string') return undefined;
  const at = o['occurredAt'];
  if (typeof at !== 'string') return undefined;
  const ms = Date.parse(at);
  // Out of range is never the edge's (and PostgreSQL would refuse it): validated, i.e. refused.
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return undefined;
  o['occurredAt'] = ms;
  return o as KeyflowEvent;
}

/**
 * The canonical wire form of a validated event: JSON with occurredAt as an RFC 3339 string
 * in UTC with millisecond precision. decodeEvent(encodeEvent(e)) deep-equals e.
 */
export function encodeEvent(event: KeyflowEvent): string {
  return JSON.stringify({ ...event, occurredAt: new Date(event.occurredAt).toISOString() });
}

/**
 * The size of an event's wire form when it is above `limit`, else undefined. Exact, but
 * costs a JSON encoding only for events that could be that large: each character of a
 * string encodes to at most 6 bytes (a \u escape), and the rest is bounded.
 */
function wireBytesAbove(event: KeyflowEvent, limit: number): number | undefined {
  let chars = 0;
  for (const s of [event.id, event.type, event.source, event.userId, event.sessionId, event.user?.gender, event.user?.country, event.user?.city]) chars += s?.length ?? 0;
  let fields = 0;
  for (const [k, v] of Object.entries(event.properties ?? {})) {
    chars += k.length + (typeof v === 'string' ? v.length : 0);
    fields++;
  }
  // 1 KiB covers every key name, the punctuation and the numbers; 32 bytes each property's.
  if (chars * 6 + 1024 + fields * 32 <= limit) return undefined;
  const bytes = utf8Length(encodeEvent(event));
  return bytes > limit ? bytes : undefined;
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Which field routes an event to its actor: `userId` (falling back to `id`), or always `id`. */
export type PartitionKeyMode = 'userId' | 'id';

/** The partition key of an event: one user's events keep their order and meet one actor. */
export function partitionKeyOf(event: Pick<KeyflowEvent, 'id' | 'userId'>, mode: PartitionKeyMode = 'userId'): string {
  return mode === 'userId' ? (event.userId ?? event.id) : event.id;
}

/** The identity of an event, as the store's primary key sees it. */
export function identityOf(event: Pick<KeyflowEvent, 'id' | 'occurredAt'>): string {
  return `${event.occurredAt}\u0000${event.id}`;
}
