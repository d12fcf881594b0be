// DELETE /v1/users/:userId and GET /v1/erasures/:id (DESIGN.md, Erasure). Rule: 202 means
// Kafka acknowledged the erasure command AND its pending row is in the store, so the id the
// client holds is readable at once and will become done — the row is written only after the
// acknowledgement, so no pending row ever lacks a command (a crash between the two leaves
// only the command, which the worker records when it runs it).
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { HttpError, KafkaUnavailableError, NotFoundError, RETRY_AFTER_SECONDS, ValidationFailedError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { count, errorSchema, isoInstant } from '../openapi/schemas.ts';
import type { EdgeOptions, ErasurePort } from '../ports.ts';

const MAX_USER_ID_LENGTH = 128;
const MAX_ERASURE_ID_LENGTH = 128;

/**
 * With KEYFLOW_PARTITION_KEY=id a user's events are spread over every partition; without
 * KEYFLOW_EDGE_TOKEN the command could not be signed (no worker would run it).
 */
export class ErasureUnsupportedError extends HttpError {
  override readonly name = 'ErasureUnsupportedError';
  readonly status = 409;
  readonly code = 'erasure_unsupported';
}

/** Kafka acknowledged the command but the store could not record it yet. */
export class ErasureNotRecordedError extends HttpError {
  override readonly name = 'ErasureNotRecordedError';
  readonly status = 503;
  readonly code = 'store_unavailable';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

export const erasureAcceptedSchema = z.object({ erasureId: z.string(), status: z.literal('pending') }).meta({ id: 'ErasureAccepted' });
export const erasureSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    status: z.enum(['pending', 'done']),
    eventsErased: count.describe('events erased (0 while pending, and for a user keyflow never saw)'),
    requestedAt: isoInstant,
    doneAt: isoInstant.optional().describe('present once done'),
  })
  .meta({ id: 'Erasure' });

/**
 * The erasure routes, mounted at the root.
 *
 * @example
 * app.route('/', erasureRoutes(deps.erasures, deps.options));
 */
export function erasureRoutes(erasures: ErasurePort, options: EdgeOptions): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();

  app.delete('/v1/users/:userId', async (c) => {
    const userId = c.req.param('userId');
    if (userId.length > MAX_USER_ID_LENGTH) {
      throw new ValidationFailedError(`userId is ${userId.length} characters; at most ${MAX_USER_ID_LENGTH}`, { details: [{ path: 'userId', message: `at most ${MAX_USER_ID_LENGTH} characters` }] });
    }
    if (options.partitionKey === 'id') {
      throw new ErasureUnsupportedError(
        'erasure needs KEYFLOW_PARTITION_KEY=userId: partitioned by event id, a user\'s events are spread over every partition and none is ordered before the command',
      );
    }
    if (options.commandsSigned === false) {
      throw new ErasureUnsupportedError(
        'erasure needs KEYFLOW_EDGE_TOKEN: without the deployment\'s secret the command cannot be signed, and workers run only signed commands',
      );
    }
    const request = { erasureId: crypto.randomUUID(), userId, requestedAt: (options.now ?? Date.now)() };
    try {
      await erasures.produce(request, c.req.raw.signal);
    } catch (cause) {
      options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      throw new KafkaUnavailableError('Kafka did not acknowledge the erasure; nothing was requested, retry', { cause });
    }
    try {
      await erasures.record(request);
    } catch (cause) {
      options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      throw new ErasureNotRecordedError('the erasure command was produced and will run, but the store could not record it yet; retrying is harmless', {
        cause,
        details: { erasureId: request.erasureId },
      });
    }
    return c.json({ erasureId: request.erasureId, status: 'pending' as const }, 202);
  });

  app.get('/v1/erasures/:id', async (c) => {
    const id = c.req.param('id');
    const erasure = id.length <= MAX_ERASURE_ID_LENGTH ? await erasures.get(id) : undefined;
    if (erasure === undefined) throw new NotFoundError(`no erasure with id ${JSON.stringify(id.slice(0, 64))}`);
    return c.json(erasure);
  });

  return app;
}

const userParams = z.object({ userId: z.string().min(1).max(MAX_USER_ID_LENGTH) });

export const erasureDocs: readonly RouteDoc[] = [
  {
    method: 'delete',
    path: '/v1/users/:userId',
    summary: 'Erase a user',
    description:
      'Produces an erasure command on the user\'s partition key and answers once Kafka acknowledged it. The user\'s actor runs it in order: every event of the user accepted before it is ' +
      'stored, then erased in one transaction with its part of every rollup, the user activity and the users row. Events sent later are new data. Poll GET /v1/erasures/:id.',
    params: userParams,
    responses: {
      202: { description: 'the command is acknowledged and recorded as pending', schema: erasureAcceptedSchema },
      400: { description: 'userId longer than 128 characters (validation_failed)', schema: errorSchema },
      409: { description: 'KEYFLOW_PARTITION_KEY=id or no KEYFLOW_EDGE_TOKEN: erasure is not available (erasure_unsupported)', schema: errorSchema },
      503: { description: 'Kafka did not acknowledge (kafka_unavailable: nothing requested), or the store could not record it (store_unavailable: the command will still run)', schema: errorSchema },
    },
    auth: 'admin',
    tags: ['erasure'],
  },
  {
    method: 'get',
    path: '/v1/erasures/:id',
    summary: 'An erasure and its state',
    params: z.object({ id: z.string().min(1).max(MAX_ERASURE_ID_LENGTH) }),
    responses: {
      200: { description: 'the erasure', schema: erasureSchema },
      404: { description: 'no erasure with this id (not_found)', schema: errorSchema },
    },
    auth: 'admin',
    tags: ['erasure'],
  },
];
