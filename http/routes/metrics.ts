// GET /metrics: the Prometheus exposition, rendered by whatever registry the composition
// root hands in, with that registry's own content type.
import { Hono } from 'hono';
import type { EdgeEnv } from '../env.ts';
import type { MetricsPort } from '../ports.ts';

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
