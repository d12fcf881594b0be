// The query and answer schemas of the /v1/reports/* routes. Rule: one zod schema per query
// validates the request and describes it in /openapi.json, and one per answer describes
// (and in tests checks) what the route returns, so the document cannot drift from the code.
import { z } from 'zod';
import { windowQuerySchema } from '../query/window.ts';

/** A comma list of known dimensions (`groupBy=type,source`): trimmed, de-duplicated, order kept. */
const dimensionList = <const D extends readonly [string, ...string[]]>(known: D) =>
  z
    .string()
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
    .superRefine((dims, ctx) => {
      for (const d of dims) {
        if (!(known as readonly string[]).includes(d)) {
          ctx.addIssue({ code: 'custom', message: `unknown dimension "${d}" (known: ${known.join(', ')})` });
        }
      }
    })
    .transform((dims) => dims as D[number][])
    .meta({ description: `comma list of ${known.join(', ')}` });

export const EVENT_DIMENSIONS = ['type', 'source', 'funnelStage'] as const;
export const REVENUE_DIMENSIONS = ['source', 'type'] as const;
export const DEMOGRAPHIC_DIMENSIONS = ['gender', 'country', 'city', 'age'] as const;

/**
 * Most groups in an answer (DESIGN.md *Security*): 1..10000 written exactly as an integer,
 * default 1000; past it the answer says `truncated: true`.
 */
const groupLimit = (per: string) =>
  z
    .string()
    .regex(/^(?:[1-9]\d{0,3}|10000)$/, 'must be an integer from 1 to 10000')
    .transform(Number)
    .optional()
    .describe(`most groups${per} in the answer, 1..10000, default 1000; when more exist the answer has truncated: true`);

export const eventsReportQuerySchema = windowQuerySchema.extend({ groupBy: dimensionList(EVENT_DIMENSIONS).optional(), limit: groupLimit('') });
export const revenueReportQuerySchema = windowQuerySchema.extend({ groupBy: dimensionList(REVENUE_DIMENSIONS).optional(), limit: groupLimit(' per currency') });
export const demographicsReportQuerySchema = windowQuerySchema.extend({ by: z.enum(DEMOGRAPHIC_DIMENSIONS), limit: groupLimit('') });

/** Present, and true, only when the answer holds fewer groups than exist. */
const truncated = z.literal(true).optional().meta({ description: 'present when more groups exist than the answer holds (see limit)' });

const instantOut = z.iso.datetime().meta({ description: 'RFC 3339, UTC' });
const count = z.number().int().min(0);
/** Money: an exact decimal, no trailing zeros after the point, "0" for zero, negative for refunds. */
export const decimalString = z
  .string()
  .regex(/^(0|-?(0|[1-9]\d*)(\.\d*[1-9])?)$/)
  .meta({ description: 'exact decimal: no trailing zeros after the point, "0" for zero', examples: ['19.99', '-5', '0'] });

export const eventsReportSchema = z.strictObject({
  from: instantOut,
  to: instantOut,
  total: count,
  groups: z.array(
    z.strictObject({
      type: z.string().optional(),
      source: z.string().optional(),
      funnelStage: z.enum(['top', 'bottom']).nullable().optional(),
      count,
    }),
  ),
  truncated,
});

export const revenueReportSchema = z.strictObject({
  from: instantOut,
  to: instantOut,
  currencies: z.array(
    z.strictObject({
      currency: z.string().regex(/^[A-Z]{3}$/),
      revenue: decimalString,
      events: count,
      groups: z
        .array(z.strictObject({ source: z.string().optional(), type: z.string().optional(), revenue: decimalString, events: count }))
        .optional(),
      truncated,
    }),
  ),
  truncated,
});

export const demographicsReportSchema = z.strictObject({
  from: instantOut,
  to: instantOut,
  by: z.enum(DEMOGRAPHIC_DIMENSIONS),
  users: count,
  events: count,
  groups: z.array(z.strictObject({ value: z.string().nullable(), users: count, events: count })),
  truncated,
});
