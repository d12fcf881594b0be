// A fast path in front of the event schema. Rule: it answers only when it is sure — it
// returns the event exactly as eventSchema.parse would (same fields, same values, same key
// order) for inputs it can prove valid, and undefined for everything else, which then goes
// through zod for the full verdict and its error messages. It never refuses anything, so it
// cannot make keyflow stricter; fast.test.ts checks "sure ⇒ zod agrees, to the byte" over
// random events, and that the common shapes (the edge's wire form, numeric occurredAt) are
// all taken by it.
import { isStorableText } from './text.ts';
import type { KeyflowEvent } from './schema.ts';

const MIN_MS = -62_135_596_800_000;
const MAX_MS = 253_402_300_799_999;
/** The canonical instant (Date#toISOString between years 1 and 9999), as encodeEvent writes it. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CURRENCY = /^[A-Z]{3}$/;
const TOP_LEVEL = new Set(['id', 'type', 'source', 'occurredAt', 'userId', 'sessionId', 'funnelStage', 'revenue', 'user', 'properties']);
const USER_KEYS = new Set(['age', 'gender', 'country', 'city']);
const REVENUE_KEYS = new Set(['amount', 'currency']);
/** The user's text fields and their limits, in the schema's order. */
const USER_TEXT: readonly (readonly [string, number])[] = [['gender', 32], ['country', 64], ['city', 128]];

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * A text field certainly within [min, max] code points and storable. UTF-16 units are an upper
 * bound of code points, and a string of at least one unit has at least one code point, so a
 * unit length inside the range proves the code-point one; anything else is left to zod.
 */
const sureText = (v: unknown, min: number, max: number): v is string =>
  typeof v === 'string' && v.length >= min && v.length <= max && isStorableText(v);

function sureInstant(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= MAX_MS ? v : undefined;
  if (typeof v !== 'string' || !CANONICAL_INSTANT.test(v)) return undefined;
  const ms = Date.parse(v);
  // Printing it back proves the calendar fields valid (no 02-30, no hour 24).
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS || new Date(ms).toISOString() !== v) return undefined;
  return ms;
}

function onlyKeys(o: Plain, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k)) return false;
  return true;
}

/**
 * The validated event when `input` is certainly valid, else undefined (ask zod). Retention and
 * the wire-size limit are checked after, as for zod's output.
 *
 * @example
 * fastEvent({ id: 'e1', type: 't', source: 's', occurredAt: 0 }); // { id: 'e1', …, occurredAt: 0 }
 */
export function fastEvent(input: unknown): KeyflowEvent | undefined {
  if (!isPlain(input) || !onlyKeys(input, TOP_LEVEL)) return undefined;
  const { id, type, source, userId, sessionId, funnelStage, revenue, user, properties } = input;
  if (!sureText(id, 1, 128) || !sureText(type, 1, 64) || !sureText(source, 1, 64)) return undefined;
  const occurredAt = sureInstant(input['occurredAt']);
  if (occurredAt === undefined) return undefined;
  // Fields in the schema's order, as zod's output has them.
  const out: Plain = { id, type, source, occurredAt };
  if ('userId' in input) {
    if (!sureText(userId, 1, 128)) return undefined;
    out['userId'] = userId;
  }
  if ('sessionId' in input) {
    if (!sureText(sessionId, 1, 128)) return undefined;
    out['sessionId'] = sessionId;
  }
  if ('funnelStage' in input) {
    if (funnelStage !== 'top' && funnelStage !== 'bottom') return undefined;
    out['funnelStage'] = funnelStage;
  }
  if ('revenue' in input) {
    if (!isPlain(revenue) || !onlyKeys(revenue, REVENUE_KEYS)) return undefined;
    const { amount, currency } = revenue;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < -1e12 || amount > 1e12) return undefined;
    if (typeof currency !== 'string' || !CURRENCY.test(currency)) return undefined;
    out['revenue'] = { amount, currency };
  }
  if ('user' in input) {
    if (!isPlain(user) || !onlyKeys(user, USER_KEYS)) return undefined;
    const u: Plain = {};
    if ('age' in user) {
      const age = user['age'];
      if (typeof age !== 'number' || !Number.isInteger(age) || age < 0 || age > 150) return undefined;
      u['age'] = age;
    }
    for (const [k, max] of USER_TEXT) {
      if (!(k in user)) continue;
      if (!sureText(user[k], 1, max)) return undefined;
      u[k] = user[k];
    }
    out['user'] = u;
  }
  if ('properties' in input) {
    if (!isPlain(properties) || Object.hasOwn(properties, '__proto__')) return undefined;
    const p: Plain = {};
    let n = 0;
    for (const k in properties) {
      if (++n > 64 || !sureText(k, 1, 64)) return undefined;
      const v = properties[k];
      if (typeof v === 'string' ? !sureText(v, 0, 1024) : typeof v === 'number' ? !Number.isFinite(v) : typeof v !== 'boolean' && v !== null) return undefined;
      p[k] = v;
    }
    out['properties'] = p;
  }
  return out as KeyflowEvent;
}
