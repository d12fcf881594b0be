// GET /v1/actors/:key — the live state of the actor that owns a key, wherever it lives — and
// GET /internal/v1/actors/:key, the same question answered by this process only, which is
// how one process asks another in a scaled deployment (never forwarded again, so no loops).
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { NotFoundError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { count, errorSchema, isoInstant } from '../openapi/schemas.ts';
import type { ActorsPort } from '../ports.ts';

/** The live state of one actor (ports.ts ActorView). */
const actorViewSchema = z
  .object({
    key: z.string(),
    workerId: z.number().int().nonnegative(),
    partition: z.number().int().nonnegative(),
    pendingEvents: count,
    dedupWindowSize: count,
    counts: z.object({ received: count, duplicates: count, flushed: count }),
    createdAt: isoInstant,
    lastActiveAt: isoInstant,
    process: z.string().optional().describe('the process that answered, in a scaled deployment'),
  })
  .meta({ id: 'ActorView' });

const keyParams = z.object({ key: z.string().min(1).describe('a partition key (a userId, or an event id)') });

/** How the actor routes describe themselves in /openapi.json. */
export const actorDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/v1/actors/:key',
    summary: 'The live state of the actor that owns a partition key, wherever it lives',
    params: keyParams,
    auth: 'read',
    responses: {
      200: { description: 'worker, partition, pending events, dedup window size, counts', schema: actorViewSchema },
      404: { description: 'No live actor for this key (not_found)', schema: errorSchema },
    },
  },
  {
    method: 'get',
    path: '/internal/v1/actors/:key',
    summary: 'The same, answered by this process only (how processes ask each other when scaled out)',
    params: keyParams,
    auth: 'internal',
    responses: {
      200: { description: 'The actor, if it lives in this process', schema: actorViewSchema },
      404: { description: 'No live actor for this key in this process (not_found)', schema: errorSchema },
    },
  },
];

/**
 * The actor routes.
 *
 * @example
 * app.route('/', actorRoutes(deps.actors));
 */
export function actorRoutes(actors: ActorsPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const answer = (local: boolean) =>
    app.get(local ? '/internal/v1/actors/:key' : '/v1/actors/:key', async (c) => {
      const key = c.req.param('key');
      const found = local ? await actors.locateHere(key) : await actors.locate(key);
      if (found === undefined) throw new NotFoundError(`no live actor for key ${JSON.stringify(key)}`, { details: { key } });
      return c.json(found);
    });
  answer(false);
  answer(true);
  return app;
}
