// The composition of the HTTP edge. Rule: the app depends only on the ports it is given —
// nothing here opens a socket, a Kafka producer or a database connection — so the whole
// edge runs under app.request() in tests and the CLI decides what sits behind each port.
import { Hono, type Context } from 'hono';
import { requestId } from 'hono/request-id';
import { randomBytes, randomUUID } from 'node:crypto';
import type { EdgeEnv } from './env.ts';
import { errorResponse, isExpected, NotFoundError } from './errors.ts';
import { apiKeyAuth } from './middleware/api-key.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi/document.ts';
import { allRouteDocs } from './openapi/routes.ts';
import type { EdgeDeps } from './ports.ts';
import { actorRoutes } from './routes/actors.ts';
import { consoleRoutes } from './routes/console.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { eventListRoutes } from './routes/event-list.ts';
import { eventStreamRoutes } from './routes/event-stream.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { reportRoutes } from './routes/reports.ts';
import { userRoutes } from './routes/users.ts';

const MAX_REQUEST_ID_LENGTH = 128;

let document: OpenApiDocument | undefined;

/** The document /openapi.json serves, built once from allRouteDocs. */
export function openApiDocument(): OpenApiDocument {
  return (document ??= buildOpenApiDocument(allRouteDocs));
}

/**
 * The answer to a path no route serves: a 404 in the error body. An app that mounts the edge
 * under its own root must use it too (a mounted app's notFound is not consulted).
 *
 * @example
 * root.route('/', createApp(deps));
 * root.notFound(notFound);
 */
export function notFound(c: Context): Response {
  return errorResponse(c, new NotFoundError(`no route ${c.req.method} ${c.req.path}`));
}

/**
 * Build the Hono app of the edge from its ports.
 *
 * @example
 * const app = createApp({ ingest, queries, health, metrics, options: { maxBodyBytes: 1 << 20, maxBatchEvents: 1000, apiKeys: [] } });
 * const res = await app.request('/healthz'); // 200 { status: 'ok' }
 */
export function createApp(deps: EdgeDeps): Hono<EdgeEnv> {
  const { options } = deps;
  const app = new Hono<EdgeEnv>();

  // A client's X-Request-Id is kept when it is short and made of [A-Za-z0-9_=-]; else a UUID.
  app.use(requestId({ limitLength: MAX_REQUEST_ID_LENGTH, generator: () => randomUUID() }));
  app.use('/v1/*', apiKeyAuth(options.apiKeys));
  app.use('/internal/*', apiKeyAuth(options.apiKeys));

  app.route('/v1/events/stream', eventStreamRoutes(deps.ingest, options));
  app.route('/v1/events', eventRoutes(deps.ingest, deps.queries, options, deps.decoder));
  app.route('/v1/events', eventListRoutes(deps.queries, options.cursorSecret ?? randomBytes(32)));
  app.route('/v1/users', userRoutes(deps.queries));
  if (deps.actors !== undefined) app.route('/', actorRoutes(deps.actors));
  app.route('/v1/reports', reportRoutes(deps.queries, options.now ?? Date.now));
  app.route('/v1/dead-letters', deadLetterRoutes(deps.queries));
  app.route('/', healthRoutes(deps.health));
  app.route('/', metricsRoutes(deps.metrics));
  app.route('/', openApiRoutes(openApiDocument()));
  app.route('/', consoleRoutes());

  app.notFound(notFound);
  app.onError((err, c) => {
    if (!isExpected(err)) {
      options.onError?.(err, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
    }
    return errorResponse(c, err);
  });
  return app;
}
