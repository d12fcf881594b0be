// GET /v1/dead-letters: the Kafka messages that could not become events, newest first, a
// page at a time. Rule: the store only sees a limit in 1..1000 and a cursor it handed out;
// anything else — a bad number, an unknown parameter, a forged or stale cursor — is a 400
// that names the parameter.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidQueryError } from '../errors.ts';
import type { DeadLetterQuery, QueryPort } from '../ports.ts';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

const querySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `must be an integer from 1 to ${MAX_LIMIT}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= MAX_LIMIT, `must be an integer from 1 to ${MAX_LIMIT}`)
    .optional(),
  cursor: z.string().min(1).max(256).optional(),
});

/**
 * Parse a dead-letter query string; `limit` defaults to 50.
 *
 * @example
 * parseDeadLetterQuery({ limit: '10' }); // { limit: 10 }
 */
export function parseDeadLetterQuery(raw: Readonly<Record<string, string>>): DeadLetterQuery {
  const r = querySchema.safeParse(raw);
  if (!r.success) {
    const details = r.error.issues.map((i) => ({
      path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.map(String).join('.'),
      message: i.message,
    }));
    throw new InvalidQueryError(details.map((d) => `${d.path}: ${d.message}`).join('; '), { details });
  }
  return { limit: r.data.limit ?? DEFAULT_LIMIT, ...(r.data.cursor === undefined ? {} : { cursor: r.data.cursor }) };
}

/**
 * The dead-letter routes.
 *
 * @example
 * app.route('/v1/dead-letters', deadLetterRoutes(deps.queries));
 */
export function deadLetterRoutes(queries: QueryPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/', async (c) => {
    const q = parseDeadLetterQuery(c.req.query());
    try {
      return c.json(await queries.listDeadLetters(q));
    } catch (e) {
      if ((e as { code?: unknown } | null)?.code !== 'KEYFLOW_INVALID_CURSOR') throw e;
      throw new InvalidQueryError('cursor: not a cursor this server handed out', {
        cause: e,
        details: [{ path: 'cursor', message: 'not a cursor this server handed out' }],
      });
    }
  });
  return app;
}
