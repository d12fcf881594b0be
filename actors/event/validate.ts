// Validation and the wire encoding of events. Expected failures are values, not exceptions:
// a bad event yields its field errors, and a caller decides whether to reject it (HTTP) or
// dead-letter it (Kafka).
import { eventSchema, type FieldError, type KeyflowEvent } from './schema.ts';

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
export function validateEvent(input: unknown): Validation {
  const r = eventSchema.safeParse(input);
  if (r.success) return { ok: true, event: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(event)', message: i.message })),
  };
}

export type Decoded =
  | { readonly ok: true; readonly event: KeyflowEvent }
  | { readonly ok: false; readonly reason: 'not-json' | 'schema' | 'empty'; readonly message: string };

/**
 * Decode one Kafka message value (UTF-8 JSON) into an event.
 *
 * @example
 * decodeEvent(new TextEncoder().encode('{"id":"e1","type":"t","source":"s","occurredAt":0}'));
 */
export function decodeEvent(value: Uint8Array | string | null): Decoded {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty', message: 'message has no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : utf8.decode(value));
  } catch (e) {
    return { ok: false, reason: 'not-json', message: `not JSON: ${(e as Error).message}` };
  }
  const v = validateEvent(parsed);
  if (v.ok) return v;
  return { ok: false, reason: 'schema', message: v.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The canonical wire form of a validated event: JSON with occurredAt as an RFC 3339 string
 * in UTC with millisecond precision. decodeEvent(encodeEvent(e)) deep-equals e.
 */
export function encodeEvent(event: KeyflowEvent): string {
  return JSON.stringify({ ...event, occurredAt: new Date(event.occurredAt).toISOString() });
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
