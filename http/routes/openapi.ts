// GET /openapi.json: the API description (see ../openapi.ts).
import { Hono } from 'hono';
import type { EdgeEnv } from '../env.ts';
import { openApiDocument } from '../openapi.ts';

/**
 * The route that serves the OpenAPI document.
 *
 * @example
 * app.route('/', openApiRoutes());
 */
export function openApiRoutes(): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/openapi.json', (c) => c.json(openApiDocument));
  return app;
}
