// GET /v1/reports/events. Rule: the store only ever sees a window that is well formed
// (from < to, at most 366 days) and filters and dimensions it knows; everything else is a
// 400 that names the offending parameter.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';
import type { EventsReportQuery, QueryPort, ReportDimension } from '../ports.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MAX_RANGE_DAYS = 366;
const DIMENSIONS: readonly ReportDimension[] = ['type', 'source', 'funnelStage'];
const MAX_INSTANT_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** An instant as RFC 3339 or epoch milliseconds. */
const instant = z
  .union([
    z.string().regex(/^\d{1,16}$/, 'must be an RFC 3339 date-time or epoch milliseconds').transform(Number),
    z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time or epoch milliseconds' }).transform((s) => Date.parse(s)),
  ])
  .refine((ms) => Number.isFinite(ms) && ms <= MAX_INSTANT_MS, 'is not a representable instant')
  .transform((ms) => new Date(ms));

const groupBy = z
  .string()
  .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter((x) => x !== ''))])
  .superRefine((dims, ctx) => {
    for (const d of dims) {
      if (!(DIMENSIONS as readonly string[]).includes(d)) {
        ctx.addIssue({ code: 'custom', message: `unknown dimension "${d}" (known: ${DIMENSIONS.join(', ')})` });
      }
    }
  })
  .transform((dims) => dims as ReportDimension[]);

const querySchema = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  source: z.string().min(1).max(64).optional(),
  type: z.string().min(1).max(64).optional(),
  funnelStage: z.enum(['top', 'bottom']).optional(),
  groupBy: groupBy.optional(),
});

/**
 * Parse a report query string, filling the window's defaults: `to` is the next whole minute
 * after `nowMs`, `from` is 24 hours before `to`.
 *
 * @example
 * parseReportQuery({ groupBy: 'type' }, Date.now()).groupBy; // ['type']
 */
export function parseReportQuery(raw: Readonly<Record<string, string>>, nowMs: number): EventsReportQuery {
  const r = querySchema.safeParse(raw);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({
      path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.map(String).join('.'),
      message: i.message,
    }));
    throw new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
  }
  const q = r.data;
  const to = q.to ?? nextMinute(nowMs);
  const from = q.from ?? new Date(to.getTime() - DAY_MS);
  if (from.getTime() >= to.getTime()) {
    throw new InvalidQueryError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, {
      details: [{ path: 'from', message: 'must be before to' }],
    });
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new InvalidQueryError(`the window spans more than ${MAX_RANGE_DAYS} days`, {
      details: [{ path: 'to', message: `at most ${MAX_RANGE_DAYS} days after from` }],
    });
  }
  return {
    from,
    to,
    groupBy: q.groupBy ?? [],
    ...(q.source === undefined ? {} : { source: q.source }),
    ...(q.type === undefined ? {} : { type: q.type }),
    ...(q.funnelStage === undefined ? {} : { funnelStage: q.funnelStage }),
  };
}

/**
 * The report routes.
 *
 * @example
 * app.route('/v1/reports', reportRoutes(deps.queries, () => Date.now()));
 */
export function reportRoutes(queries: QueryPort, now: () => number): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/events', async (c) => {
    const q = parseReportQuery(c.req.query(), now());
    const report = await queries.reportEvents(q);
    return c.json({ from: q.from.toISOString(), to: q.to.toISOString(), total: report.total, groups: report.groups });
  });
  return app;
}

function nextMinute(ms: number): Date {
  return new Date(Math.floor(ms / MINUTE_MS) * MINUTE_MS + MINUTE_MS);
}

const reportGroupSchema = z.object({
  type: z.string().optional(),
  source: z.string().optional(),
  funnelStage: z.enum(['top', 'bottom']).nullable().optional().describe('null: events without a funnel stage'),
  count: z.number().int().nonnegative(),
});
const eventsReportSchema = z.object({ from: z.iso.datetime(), to: z.iso.datetime(), total: z.number().int().nonnegative(), groups: z.array(reportGroupSchema) });

/** How the report routes describe themselves in /openapi.json. */
export const reportDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/reports/events',
    summary: 'Event counts in [from, to), optionally filtered and grouped',
    query: querySchema,
    auth: 'read',
    responses: {
      200: { description: 'The report', schema: eventsReportSchema },
      400: { description: 'Invalid query (invalid_query), naming the parameter', schema: errorSchema },
    },
  },
];
