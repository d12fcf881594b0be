// GET /v1/actors/:key — the live state of the actor that owns a key, wherever it lives — and
// GET /internal/v1/actors/:key, the same question answered by this process only, which is
// how one process asks another in a scaled deployment (never forwarded again, so no loops).
import { Hono } from 'hono';
import type { EdgeEnv } from '../env.ts';
import { NotFoundError } from '../errors.ts';
import type { ActorsPort } from '../ports.ts';

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
