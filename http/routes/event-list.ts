// GET /v1/events: stored events, newest first (occurredAt desc, id desc), filtered by user,
// type, source and window, a page at a time. Rule: the store only sees a well-formed query —
// a limit in 1..1000, a window with from < to, and a position the edge signed for these very
// filters; everything else (a bad value, an unknown parameter, a tampered or foreign cursor)
// is a 400 that names the parameter.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema, storedEventSchema } from '../openapi/schemas.ts';
import type { EventListQuery, QueryPort } from '../ports.ts';
import { commaList, instant, invalidQuery, pageLimit, queryText } from '../query/window.ts';
import { cursorCodec } from './event-cursor.ts';

const DEFAULT_LIMIT = 100;

const querySchema = z.strictObject({
  userId: queryText(128).optional().describe('only this user’s events'),
  type: commaList(64).optional().describe('comma list: any of these types'),
  source: commaList(64).optional().describe('comma list: any of these sources'),
  from: instant.optional().describe('inclusive, RFC 3339 or epoch ms; default: no lower bound'),
  to: instant.optional().describe('exclusive, RFC 3339 or epoch ms; default: no upper bound'),
  limit: pageLimit(DEFAULT_LIMIT),
  cursor: z.string().max(2048).regex(/^[A-Za-z0-9_-]{1,2000}\.[A-Za-z0-9_-]{43}$/, 'not a cursor this server handed out').optional().describe('nextCursor of the previous page, with the same filters: a base64url position, a dot and its base64url HMAC-SHA256; only a cursor this server signed for these filters opens'),
});

/** One page of the list. */
export const eventPageSchema = z
  .object({
    events: z.array(storedEventSchema),
    nextCursor: z.string().optional().describe('pass as cursor (with the same filters) for the next page; absent on the last page'),
  })
  .meta({ id: 'EventPage' });

/** How the list describes itself in /openapi.json. */
export const eventListDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/events',
    summary: 'Stored events, newest first (occurredAt desc, id desc), filtered by user, type, source and window, paged by an opaque cursor',
    query: querySchema,
    auth: 'read',
    responses: {
      200: { description: 'One page', schema: eventPageSchema },
      400: { description: 'Invalid query (invalid_query) naming the parameter: a bad value, from ≥ to, an unknown parameter, or a cursor this server did not hand out for these filters', schema: errorSchema },
    },
  },
];

type ParsedList = { readonly query: Omit<EventListQuery, 'after'>; readonly cursor?: string; readonly scope: string };

/**
 * Parse a list query string; `limit` defaults to 100, the window to all of time.
 *
 * @example
 * parseEventListQuery({ userId: 'u-1', type: 'a,b' }).query; // { userId: 'u-1', type: ['a', 'b'], limit: 100 }
 */
export function parseEventListQuery(raw: Readonly<Record<string, string>>): ParsedList {
  const r = querySchema.safeParse(raw);
  if (!r.success) throw invalidQuery(r.error.issues);
  const q = r.data;
  if (q.from !== undefined && q.to !== undefined && q.from.getTime() >= q.to.getTime()) {
    throw new InvalidQueryError(`from (${q.from.toISOString()}) must be before to (${q.to.toISOString()})`, {
      details: [{ path: 'from', message: 'must be before to' }],
    });
  }
  const query: Omit<EventListQuery, 'after'> = {
    limit: q.limit ?? DEFAULT_LIMIT,
    ...(q.userId === undefined ? {} : { userId: q.userId }),
    ...(q.type === undefined ? {} : { type: q.type }),
    ...(q.source === undefined ? {} : { source: q.source }),
    ...(q.from === undefined ? {} : { from: q.from }),
    ...(q.to === undefined ? {} : { to: q.to }),
  };
  // What a cursor is bound to: the filters, as sets (order and repeats do not change the list); not the limit.
  const scope = JSON.stringify([
    query.userId ?? null,
    query.type === undefined ? null : [...query.type].sort(),
    query.source === undefined ? null : [...query.source].sort(),
    query.from?.getTime() ?? null,
    query.to?.getTime() ?? null,
  ]);
  return { query, scope, ...(q.cursor === undefined ? {} : { cursor: q.cursor }) };
}

/**
 * The list route (GET on the mount point), cursors signed with `secret`.
 *
 * @example
 * app.route('/v1/events', eventListRoutes(deps.queries, secret));
 */
export function eventListRoutes(queries: QueryPort, secret: string | Uint8Array): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const cursors = cursorCodec(secret);
  app.get('/', async (c) => {
    const { query, scope, cursor } = parseEventListQuery(c.req.query());
    const after = cursor === undefined ? undefined : cursors.decode(cursor, scope);
    if (cursor !== undefined && after === undefined) {
      throw new InvalidQueryError('cursor: not a cursor this server handed out for these filters', {
        details: [{ path: 'cursor', message: 'not a cursor this server handed out for these filters' }],
      });
    }
    const page = await queries.listEvents(after === undefined ? query : { ...query, after }, c.req.raw.signal);
    const body: z.output<typeof eventPageSchema> = {
      events: page.events,
      ...(page.next === undefined ? {} : { nextCursor: cursors.encode(page.next, scope) }),
    };
    return c.json(body);
  });
  return app;
}
