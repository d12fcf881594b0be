// GET /v1/analytics/timeseries and GET /v1/analytics/funnel. Rule: the store only ever sees a
// well-formed window, an interval it knows, a zone Intl knows and 2..10 steps; every other
// input — and a series of more than 10,000 points — is a 400 naming the parameter. A CSV
// time series carries exactly the JSON's numbers (one row per point and currency).
import { Hono } from 'hono';
import { z } from 'zod';
import { canonicalTimeZone, formatInZone, MAX_POINTS, TooManyBucketsError } from '../../db/index.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';
import type { QueryPort } from '../ports.ts';
import { commaListPattern, listValue, parseQuery, windowQuerySchema } from '../query/window.ts';

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const timeseriesQuerySchema = windowQuerySchema.extend({
  interval: z.enum(['1m', '1h', '1d']).default('1h'),
  // Matched in any letter case and answered in IANA's spelling (asia/kolkata → Asia/Kolkata).
  tz: z
    .string()
    .transform((s, ctx) => canonicalTimeZone(s) ?? (ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone name such as UTC or Asia/Kolkata (any letter case)' }), z.NEVER))
    .default('UTC'),
});

/** `30m`, `1h`, `7d`: 1..999999 minutes, hours or days. */
const windowSpan = z
  .string()
  .regex(/^[1-9]\d{0,5}[mhd]$/, 'must be a duration like 30m, 1h or 7d')
  .transform((s) => Number(s.slice(0, -1)) * UNIT_MS[s.slice(-1) as 'm' | 'h' | 'd']);

const stepList = z
  .string()
  .regex(commaListPattern(64, { min: 2, max: 10 }, false), 'must name 2 to 10 event types of 1 to 64 characters')
  .transform((s) => s.split(',').map((x) => x.trim()))
  .pipe(z.array(listValue(64)).min(2, 'must name 2 to 10 event types').max(10, 'must name 2 to 10 event types'));

const funnelQuerySchema = windowQuerySchema.omit({ type: true, format: true }).extend({
  steps: stepList,
  window: windowSpan.optional(),
});

/**
 * The analytics routes.
 *
 * @example
 * app.route('/v1/analytics', analyticsRoutes(deps.queries, () => Date.now()));
 */
export function analyticsRoutes(queries: QueryPort, now: () => number): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/timeseries', async (c) => {
    const q = parseQuery(timeseriesQuerySchema, c.req.query(), now());
    let points;
    try {
      points = await queries.timeseries({
        from: q.from, to: q.to, interval: q.interval, tz: q.tz,
        ...(q.source === undefined ? {} : { source: q.source }),
        ...(q.type === undefined ? {} : { type: q.type }),
        ...(q.funnelStage === undefined ? {} : { funnelStage: q.funnelStage }),
      }, c.req.raw.signal);
    } catch (e) {
      if (!(e instanceof TooManyBucketsError)) throw e;
      throw new InvalidQueryError(`interval: the window holds more than ${MAX_POINTS} points of ${q.interval}`, {
        cause: e,
        details: [{ path: 'interval', message: `more than ${MAX_POINTS} points: choose a coarser interval or a shorter window` }],
      });
    }
    const out = points.map((p) => ({ t: formatInZone(q.tz, p.t), events: p.events, users: p.users, revenue: p.revenue }));
    if (wantsCsv(c)) {
      // One row per point and currency; a point without revenue has one row with empty currency.
      const rows: unknown[][] = [];
      for (const p of out) {
        const cur = Object.entries(p.revenue);
        if (cur.length === 0) rows.push([p.t, p.events, p.users, '', '']);
        for (const [currency, revenue] of cur) rows.push([p.t, p.events, p.users, currency, revenue]);
      }
      return csvResponse(c, ['t', 'events', 'users', 'currency', 'revenue'], rows, 'timeseries.csv');
    }
    return c.json({ from: q.from.toISOString(), to: q.to.toISOString(), interval: q.interval, tz: q.tz, points: out });
  });
  app.get('/funnel', async (c) => {
    const raw = c.req.query();
    const q = parseQuery(funnelQuerySchema, raw, now());
    const steps = await queries.funnel({
      from: q.from, to: q.to, steps: q.steps, windowMs: q.window ?? UNIT_MS.d,
      ...(q.source === undefined ? {} : { source: q.source }),
      ...(q.funnelStage === undefined ? {} : { funnelStage: q.funnelStage }),
    }, c.req.raw.signal);
    return c.json({ from: q.from.toISOString(), to: q.to.toISOString(), window: raw['window'] ?? '1d', steps });
  });
  return app;
}

const rfc3339 = z.string().describe('RFC 3339');
const timeseriesSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  interval: z.enum(['1m', '1h', '1d']),
  tz: z.string(),
  points: z.array(
    z.object({
      t: rfc3339.describe("the bucket's start, with the zone's offset at that instant (Z for UTC)"),
      events: z.number().int().nonnegative(),
      users: z.number().int().nonnegative(),
      revenue: z.record(z.string(), z.string().regex(/^-?\d+(\.\d+)?$/)).describe('exact decimal sum per currency present'),
    }),
  ),
});
const funnelSchema = z.object({
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  window: z.string(),
  steps: z.array(
    z.object({
      type: z.string(),
      users: z.number().int().nonnegative(),
      conversionFromFirst: z.number().min(0).max(1),
      conversionFromPrevious: z.number().min(0).max(1),
      medianMsFromPrevious: z.number().int().nonnegative().nullable(),
    }),
  ),
});

/** How the analytics routes describe themselves in /openapi.json. */
export const analyticsDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/analytics/timeseries',
    summary: 'Events, distinct users and revenue per 1m/1h/1d bucket aligned in an IANA zone, zero-filled',
    query: timeseriesQuerySchema,
    auth: 'read',
    responses: {
      200: { description: 'The series (text/csv with format=csv or Accept: text/csv)', schema: timeseriesSchema, alsoAs: ['text/csv'] },
      400: { description: 'Invalid query (invalid_query) naming the parameter, or more than 10,000 points', schema: errorSchema },
      503: { description: 'query_timeout: the series took longer than KEYFLOW_QUERY_TIMEOUT_MS', schema: errorSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/analytics/funnel',
    summary: 'Ordered funnel of 2..10 event types with a conversion window measured from step 1',
    query: funnelQuerySchema,
    auth: 'read',
    responses: {
      200: { description: 'Users, conversion rates and the median time from the previous step, per step', schema: funnelSchema },
      400: { description: 'Invalid query (invalid_query), naming the parameter', schema: errorSchema },
      503: { description: 'query_timeout: the funnel took longer than KEYFLOW_QUERY_TIMEOUT_MS', schema: errorSchema },
    },
  },
];
