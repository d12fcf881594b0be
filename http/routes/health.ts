// GET /healthz and GET /readyz. Rule: liveness says only that the process answers, so an
// orchestrator never restarts a healthy process because Kafka is down; readiness asks every
// dependency and names each one that is not ready.
import { Hono } from 'hono';
import type { EdgeEnv } from '../env.ts';
import { NotReadyError } from '../errors.ts';
import type { HealthPort, Readiness } from '../ports.ts';

/**
 * The health routes.
 *
 * @example
 * app.route('/', healthRoutes(deps.health));
 */
export function healthRoutes(health: HealthPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    let r: Readiness;
    try {
      r = await health.readiness();
    } catch (cause) {
      throw new NotReadyError('readiness could not be determined', { cause, extra: { ready: false, checks: {} } });
    }
    if (r.ready) return c.json({ ready: true, checks: r.checks });
    const failing = Object.entries(r.checks)
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => (check.detail === undefined ? name : `${name} (${check.detail})`));
    throw new NotReadyError(failing.length > 0 ? `not ready: ${failing.join(', ')}` : 'not ready', {
      extra: { ready: false, checks: r.checks },
    });
  });
  return app;
}
