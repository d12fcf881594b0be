// GET /v1/users/:userId: one user's profile — first and last seen, event count, current
// demographics, counts by type, revenue per currency, the 20 newest events. Rule: the answer
// is the store's one-snapshot view of the user, shaped by userProfileSchema, and a user
// keyflow has no event of (or an id no user can have) is a 404. DELETE /v1/users/:userId
// (erasure) lives in its own module.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { NotFoundError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { count, decimalString, errorSchema, isoInstant, storedEventSchema } from '../openapi/schemas.ts';
import type { QueryPort } from '../ports.ts';
import { queryText } from '../query/window.ts';

const RECENT = 20;

const userParams = z.object({ userId: queryText(128).describe('a userId as events carry it (longer or unstorable ids match no user: 404)') });

/** The profile a user's GET answers. */
export const userProfileSchema = z
  .object({
    userId: z.string(),
    firstSeen: isoInstant.describe('the earliest occurredAt among the user’s events'),
    lastSeen: isoInstant.describe('the latest occurredAt among the user’s events'),
    events: count.describe('how many of the user’s events are stored'),
    profile: z
      .object({
        age: z.number().int().min(0).max(150).optional(),
        gender: z.string().optional(),
        country: z.string().optional(),
        city: z.string().optional(),
      })
      .describe('current values: each from the newest occurredAt that carried the field'),
    types: z.array(z.object({ type: z.string(), count })).describe('events per type, by count descending, then type ascending'),
    revenue: z.array(z.object({ currency: z.string(), revenue: decimalString })).describe('exact decimal sum per currency (ascending); refunds subtract'),
    recent: z.array(storedEventSchema).max(RECENT).describe(`the ${RECENT} newest events, by occurredAt desc, id desc`),
  })
  .meta({ id: 'UserProfile' });

/** How the user routes of this module describe themselves in /openapi.json. */
export const userDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/users/:userId',
    summary: 'A user’s profile: first/last seen, events, current demographics, counts by type, revenue, the 20 newest events',
    params: userParams,
    auth: 'read',
    responses: {
      200: { description: 'The profile', schema: userProfileSchema },
      404: { description: 'keyflow has stored no event of this user (not_found)', schema: errorSchema },
    },
  },
];

/**
 * The user profile route.
 *
 * @example
 * app.route('/v1/users', userRoutes(deps.queries));
 */
export function userRoutes(queries: QueryPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/:userId', async (c) => {
    const userId = c.req.param('userId');
    const profile = userParams.safeParse({ userId }).success ? await queries.getUserProfile(userId, c.req.raw.signal) : undefined;
    if (profile === undefined) {
      throw new NotFoundError(`no user ${JSON.stringify(userId.length > 64 ? `${userId.slice(0, 64)}…` : userId)}`, { details: { userId: userId.slice(0, 128) } });
    }
    const body: z.output<typeof userProfileSchema> = profile;
    return c.json(body);
  });
  return app;
}
