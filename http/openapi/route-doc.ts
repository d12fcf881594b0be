// How a route describes itself for /openapi.json. Rule: a route's description is built from
// the same zod schemas that validate its input and shape its answer, so the published
// document cannot drift from the code.
import type { z } from 'zod';

/**
 * Which API-key scope a route needs ('none': open, like /healthz; 'internal': the deployment
 * token). Published from http/auth/access.ts; a RouteDoc that states it is checked against it.
 */
export type RouteAuth = 'read' | 'ingest' | 'admin' | 'internal' | 'none';

/** One answer of a route. */
export type ResponseDoc = {
  readonly description: string;
  /** The body's schema; absent for bodies that are not JSON or not described. */
  readonly schema?: z.ZodType;
  /** Default application/json. */
  readonly contentType?: string;
  /** Other content types the same status may answer with (e.g. text/csv); their bodies are text. */
  readonly alsoAs?: readonly string[];
};

/**
 * One route, as /openapi.json publishes it. Paths use Hono's `:param` syntax.
 *
 * @example
 * export const reportDocs: RouteDoc[] = [{ method: 'get', path: '/v1/reports/events', summary: 'Event counts',
 *   query: reportQuerySchema, responses: { 200: { description: 'the report', schema: eventsReportSchema } }, auth: 'read' }];
 */
export type RouteDoc = {
  readonly method: 'get' | 'post' | 'delete' | 'put' | 'patch' | 'head';
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly query?: z.ZodType;
  readonly params?: z.ZodType;
  readonly body?: z.ZodType;
  /** Content type of the body, default application/json. */
  readonly bodyContentType?: string;
  /** Other content types the same body schema may be sent as (e.g. text/plain holding JSON). */
  readonly alsoBodyAs?: readonly string[];
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  readonly auth?: RouteAuth;
  readonly tags?: readonly string[];
};
