// GET /metrics: the Prometheus exposition, rendered by whatever registry the composition
// root hands in, with that registry's own content type.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import type { MetricsPort } from '../ports.ts';

/** How the metrics route describes itself in /openapi.json. */
export const metricsDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/metrics',
    summary: "Prometheus metrics: the main thread's summed with every worker's",
    auth: 'none',
    responses: { 200: { description: 'Prometheus text exposition', schema: z.string(), contentType: 'text/plain' } },
  },
];

/**
 * The metrics route.
 *
 * @example
 * app.route('/', metricsRoutes({ contentType: register.contentType, render: () => register.metrics() }));
 */
export function metricsRoutes(metrics: MetricsPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/metrics', async (c) => {
    const text = await metrics.render();
    return c.body(text, 200, { 'Content-Type': metrics.contentType });
  });
  return app;
}
