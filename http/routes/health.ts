// GET /healthz and GET /readyz. Rule: liveness says only that the process answers, so an
// orchestrator never restarts a healthy process because Kafka is down; readiness asks every
// dependency and names each one that is not ready.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { NotReadyError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';
import type { HealthPort, Readiness } from '../ports.ts';

const checksSchema = z.record(
  z.string(),
  z.object({
    ok: z.boolean(),
    detail: z.string().optional(),
    degraded: z.boolean().optional().describe('true on a failing check that leaves the process ready (Redis: only live views suffer)'),
  }),
);
const readinessSchema = z.object({ ready: z.literal(true), checks: checksSchema }).meta({ id: 'Readiness' });
const notReadySchema = errorSchema.extend({ ready: z.literal(false), checks: checksSchema }).meta({ id: 'NotReady' });

/** How the health routes describe themselves in /openapi.json. */
export const healthDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers (no dependency is asked)',
    auth: 'none',
    responses: { 200: { description: 'The process runs', schema: z.object({ status: z.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness of Kafka, PostgreSQL, Redis, the workers and the partitions (a stalled one is named; Redis down is degraded, not unready)',
    auth: 'none',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'Not ready (not_ready); the message names what is not, and the body carries ready and checks', schema: notReadySchema },
    },
  },
];

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
