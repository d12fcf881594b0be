// GET /v1/reports/events, /v1/reports/revenue and /v1/reports/demographics. Rule: the store
// only ever sees a well-formed window (from < to, any span) and filters and dimensions it
// knows; every other input is a 400 that names the offending parameter. A CSV answer
// (format=csv or Accept: text/csv) is built from the same result as the JSON one,
// with the same numbers.
import { Hono } from 'hono';
import { z } from 'zod';
import { csvResponse, wantsCsv } from '../csv.ts';
import type { EdgeEnv } from '../env.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';
import type { QueryPort } from '../ports.ts';
import { parseQuery, type WindowFilters } from '../query/window.ts';
import {
  demographicsReportQuerySchema,
  demographicsReportSchema,
  eventsReportQuerySchema,
  eventsReportSchema,
  revenueReportQuerySchema,
  revenueReportSchema,
} from './report-schemas.ts';

type Raw = Readonly<Record<string, string>>;

type ParsedFilters = { readonly [K in keyof WindowFilters]?: WindowFilters[K] | undefined };

/** Only the filters that were given (the store treats an absent key as "any"). */
function filters(q: ParsedFilters): WindowFilters {
  return {
    ...(q.source !== undefined && { source: q.source }),
    ...(q.type !== undefined && { type: q.type }),
    ...(q.funnelStage !== undefined && { funnelStage: q.funnelStage }),
  };
}

/** The group limit when one was given (the store applies its default otherwise). */
function limitOf(q: { readonly limit?: number | undefined }): { limit?: number } {
  return q.limit === undefined ? {} : { limit: q.limit };
}

/**
 * Parse a `GET /v1/reports/events` query string, filling the default window (the 24 hours up
 * to the next whole minute after `nowMs`).
 *
 * @example
 * parseReportQuery({ groupBy: 'type', type: 'a,b' }, Date.now()); // { from, to, groupBy: ['type'], type: ['a', 'b'] }
 */
export function parseReportQuery(raw: Raw, nowMs: number) {
  const q = parseQuery(eventsReportQuerySchema, raw, nowMs);
  return { from: q.from, to: q.to, groupBy: q.groupBy ?? [], ...limitOf(q), ...filters(q) };
}

/** Parse a `GET /v1/reports/revenue` query string (see parseReportQuery). */
export function parseRevenueQuery(raw: Raw, nowMs: number) {
  const q = parseQuery(revenueReportQuerySchema, raw, nowMs);
  return { from: q.from, to: q.to, groupBy: q.groupBy ?? [], ...limitOf(q), ...filters(q) };
}

/** Parse a `GET /v1/reports/demographics` query string (see parseReportQuery); `by` is required. */
export function parseDemographicsQuery(raw: Raw, nowMs: number) {
  const q = parseQuery(demographicsReportQuerySchema, raw, nowMs);
  return { from: q.from, to: q.to, by: q.by, ...limitOf(q), ...filters(q) };
}

/**
 * The report routes.
 *
 * @example
 * app.route('/v1/reports', reportRoutes(deps.queries, () => Date.now()));
 */
export function reportRoutes(queries: QueryPort, now: () => number): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const window = (q: { from: Date; to: Date }) => ({ from: q.from.toISOString(), to: q.to.toISOString() });

  app.get('/events', async (c) => {
    const q = parseReportQuery(c.req.query(), now());
    const r = await queries.reportEvents(q, c.req.raw.signal);
    if (wantsCsv(c)) {
      const rows = q.groupBy.length === 0 ? [[r.total]] : r.groups.map((g) => [...q.groupBy.map((k) => g[k]), g.count]);
      return csvResponse(c, [...q.groupBy, 'count'], rows, 'events-report.csv');
    }
    return c.json({ ...window(q), total: r.total, groups: r.groups, ...(r.truncated && { truncated: r.truncated }) } satisfies z.output<typeof eventsReportSchema>);
  });

  app.get('/revenue', async (c) => {
    const q = parseRevenueQuery(c.req.query(), now());
    const r = await queries.reportRevenue(q, c.req.raw.signal);
    if (wantsCsv(c)) {
      const rows = q.groupBy.length === 0
        ? r.currencies.map((x) => [x.currency, x.revenue, x.events])
        : r.currencies.flatMap((x) => (x.groups ?? []).map((g) => [x.currency, ...q.groupBy.map((k) => g[k]), g.revenue, g.events]));
      return csvResponse(c, ['currency', ...q.groupBy, 'revenue', 'events'], rows, 'revenue-report.csv');
    }
    return c.json({ ...window(q), currencies: r.currencies, ...(r.truncated && { truncated: r.truncated }) } satisfies z.output<typeof revenueReportSchema>);
  });

  app.get('/demographics', async (c) => {
    const q = parseDemographicsQuery(c.req.query(), now());
    const r = await queries.reportDemographics(q, c.req.raw.signal);
    if (wantsCsv(c)) {
      return csvResponse(c, [q.by, 'users', 'events'], r.groups.map((g) => [g.value, g.users, g.events]), 'demographics-report.csv');
    }
    return c.json({ ...window(q), by: q.by, users: r.users, events: r.events, groups: r.groups, ...(r.truncated && { truncated: r.truncated }) } satisfies z.output<typeof demographicsReportSchema>);
  });
  return app;
}

const bad = { description: 'a bad or unknown parameter, named in the message and details', schema: errorSchema } as const;
const slow = { description: 'query_timeout: the report ran longer than KEYFLOW_QUERY_TIMEOUT_MS; retry later or with a shorter window', schema: errorSchema } as const;

/** The report routes, as /openapi.json publishes them. */
export const reportDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/reports/events',
    summary: 'Event counts over any window, optionally grouped by type, source and funnel stage',
    description:
      'Groups are ordered by count desc, then by the groupBy dimensions in the order given, ascending by UTF-16 code unit; ' +
      'an event without a funnel stage groups under funnelStage: null, which sorts after top and bottom. ' +
      'CSV (format=csv or Accept: text/csv): one column per groupBy dimension, then count (without groupBy: one row with the total).',
    query: eventsReportQuerySchema,
    responses: { 200: { description: 'the counts', alsoAs: ['text/csv'], schema: eventsReportSchema }, 400: bad, 503: slow },
    auth: 'read',
    tags: ['reports'],
  },
  {
    method: 'get',
    path: '/v1/reports/revenue',
    summary: 'Exact revenue per currency over any window, optionally split by source and type',
    description:
      'Currencies in code order; groups by events desc, then the groupBy dimensions ascending. Refunds (negative amounts) subtract. ' +
      'CSV: currency, the groupBy dimensions, revenue, events (with groupBy: one row per group).',
    query: revenueReportQuerySchema,
    responses: { 200: { description: 'revenue per currency', alsoAs: ['text/csv'], schema: revenueReportSchema }, 400: bad, 503: slow },
    auth: 'read',
    tags: ['reports'],
  },
  {
    method: 'get',
    path: '/v1/reports/demographics',
    summary: 'Distinct users with matching events in the window, and their events, by current gender, country, city or age bucket',
    description:
      'Groups by users desc, then value (age buckets in age order, other values ascending by UTF-16 code unit); value null (unknown) sorts last. ' +
      'CSV: <by>, users, events (an empty field for null).',
    query: demographicsReportQuerySchema,
    responses: { 200: { description: 'users and events per value', alsoAs: ['text/csv'], schema: demographicsReportSchema }, 400: bad, 503: slow },
    auth: 'read',
    tags: ['reports'],
  },
];
