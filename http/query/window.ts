// The query parameters every report and analytics route shares (DESIGN.md, *Analytics*):
// the window, the filters and the answer format. Rule: a route's handler only ever sees a
// well-formed window (from < to, both representable instants) and filters it can pass to
// PostgreSQL as they are; every other input is a 400 that names the offending parameter, and
// a parameter the route does not know is refused by name.
import { z } from 'zod';
import { codePointLength, isStorableText, UNSTORABLE_MESSAGE } from '../../actors/index.ts';
import { InvalidQueryError } from '../errors.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** 0001-01-01T00:00:00Z: PostgreSQL and RFC 3339 agree from here (year 0 is refused by PostgreSQL). */
export const MIN_INSTANT_MS = -62_135_596_800_000;
/** 9999-12-31T23:59:59.999Z. */
export const MAX_INSTANT_MS = 253_402_300_799_999;

// PostgreSQL text holds neither NUL nor an unpaired surrogate: such a filter can match
// nothing stored, and sending it would be a server error instead of the client's. The one
// rule (actors/event/text.ts) is also applied to every parameter of every route by
// http/middleware/safe-input.ts; this keeps a schema used elsewhere just as strict.

/** A string parameter PostgreSQL can compare: 1..max code points (the unit of every limit), no NUL, no lone surrogate. */
export const queryText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(isStorableText, { message: UNSTORABLE_MESSAGE });

/** An instant as RFC 3339 or epoch milliseconds, between years 0001 and 9999. */
export const instant = z
  .union([
    z.string().regex(/^-?\d{1,16}$/, 'must be an RFC 3339 date-time or epoch milliseconds').transform(Number),
    z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time or epoch milliseconds' }).transform((s) => Date.parse(s)),
  ])
  .refine((ms) => Number.isFinite(ms) && ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS, 'must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z')
  .transform((ms) => new Date(ms));

// The characters of a published comma list, spelled out so that JavaScript (which checks it,
// in u mode: one code point at a time) and any other regex engine (which may generate from it;
// Python's \\s is not JavaScript's trim) read it alike. An item never holds NUL, a comma or a
// lone surrogate; WS is exactly what String#trim removes.
const WS_CHARS = '\\u0009-\\u000D\\u0020\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF';
const WS = `[${WS_CHARS}]`;
const ITEM = '[^,\\u0000]';
const VALUE_START = `[^,\\u0000${WS_CHARS}]`;

/** One value of a comma list: 1..max code points (the unit every length limit counts), storable. */
export const listValue = (max: number) =>
  z
    .string()
    .min(1)
    .refine((s) => codePointLength(s) <= max, `must be at most ${max} characters`)
    .refine(isStorableText, { message: UNSTORABLE_MESSAGE });

/**
 * The published form of a comma list (`pattern` in /openapi.json, and checked first here):
 * `items.min`..`items.max` values (each 1..max code points once trimmed); with `emptyItems`, at
 * least one value among any number of items, empty ones allowed. Every string it matches is
 * one the list's own rules accept (a lone surrogate aside, which no URL carries).
 */
export function commaListPattern(max: number, items: { readonly min: number; readonly max: number }, emptyItems: boolean): RegExp {
  const value = `${WS}*${VALUE_START}${ITEM}{0,${max - 1}}`;
  const source = emptyItems
    ? `^(?:${WS}*,)*${value}(?:,${ITEM}{0,${max}})*$`
    : `^${value}(?:,${value}){${items.min - 1},${items.max - 1}}$`;
  return new RegExp(source, 'u');
}

/**
 * A comma list of values of 1..max code points (`type=a,b`): trimmed, empty items dropped, duplicates
 * removed, order kept.
 */
export const commaList = (max: number) =>
  z
    .string()
    .regex(commaListPattern(max, { min: 1, max: 1 }, true), `must be a comma list naming at least one value of at most ${max} characters`)
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
    .pipe(z.array(listValue(max)).min(1, 'must name at least one value'));

/** The parameters shared by every report and analytics route. Extend it with `.extend({…})`. */
export const windowQuerySchema = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  source: commaList(64).optional(),
  type: commaList(64).optional(),
  funnelStage: z.enum(['top', 'bottom']).optional(),
  format: z.enum(['json', 'csv']).optional(),
});

/** The window every parsed query carries, defaults filled: `from` inclusive, `to` exclusive. */
export type Window = { readonly from: Date; readonly to: Date };

/** The shared filters, after parsing. */
export type WindowFilters = {
  readonly source?: readonly string[];
  readonly type?: readonly string[];
  readonly funnelStage?: 'top' | 'bottom';
};

type WithWindow<T> = Omit<T, 'from' | 'to'> & Window;

/**
 * Parse a query string with `schema` (windowQuerySchema or an extension of it), fill the
 * default window — `to` is the next whole minute after `nowMs`, `from` 24 hours before `to` —
 * and check from < to. Throws InvalidQueryError with `details: [{ path, message }]`.
 *
 * @example
 * const q = parseQuery(windowQuerySchema.extend({ by: z.enum(['gender', 'age']) }), c.req.query(), Date.now());
 * q.from; q.to; q.by; q.type; // Date, Date, 'gender' | 'age', string[] | undefined
 */
export function parseQuery<S extends z.ZodType<{ from?: Date | undefined; to?: Date | undefined }>>(
  schema: S,
  raw: Readonly<Record<string, string>>,
  nowMs: number,
): WithWindow<z.output<S>> {
  const r = schema.safeParse(raw);
  if (!r.success) throw invalidQuery(r.error.issues);
  const q = r.data;
  const to = q.to ?? nextMinute(nowMs);
  const from = q.from ?? new Date(Math.max(MIN_INSTANT_MS, to.getTime() - DAY_MS));
  if (from.getTime() >= to.getTime()) {
    throw new InvalidQueryError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, {
      details: [{ path: q.from === undefined ? 'to' : 'from', message: 'must be before to' }],
    });
  }
  return { ...q, from, to } as WithWindow<z.output<S>>;
}

/** The 400 for a failed parse: one detail per issue, naming the parameter. */
export function invalidQuery(issues: readonly z.core.$ZodIssue[]): InvalidQueryError {
  const details = issues.map((i) => ({
    path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.map(String).join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown parameter${i.keys.length > 1 ? 's' : ''}` : i.message,
  }));
  return new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
}

function nextMinute(ms: number): Date {
  return new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
}

/**
 * A page size as a query parameter: 1..1000 written exactly as an integer (no sign, no
 * leading zero), the limit every paginated route shares.
 *
 * @example
 * z.strictObject({ limit: pageLimit(100) }); // default stated for the document only
 */
export const pageLimit = (defaultLimit: number) =>
  z
    .string()
    .regex(/^(?:[1-9]\d{0,2}|1000)$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .optional()
    .describe(`page size, 1..1000, default ${defaultLimit}`);
