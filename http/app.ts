// The composition of the HTTP edge. Rule: the app depends only on the ports it is given —
// nothing here opens a socket, a Kafka producer or a database connection — so the whole
// edge runs under app.request() in tests and the CLI decides what sits behind each port.
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { randomBytes, randomUUID } from 'node:crypto';
import { truncateCodePoints } from '../actors/index.ts';
import type { EdgeEnv } from './env.ts';
import { errorResponse, isExpected, NotFoundError } from './errors.ts';
import { AuthFailureLimiter, clientAddress, deriveInternalToken, guard } from './auth/index.ts';
import { methodNotAllowed } from './method-not-allowed.ts';
import { safeInput } from './middleware/safe-input.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi/document.ts';
import { allRouteDocs } from './openapi/routes.ts';
import type { EdgeDeps, EdgeOptions } from './ports.ts';
import { actorRoutes } from './routes/actors.ts';
import { consoleRoutes } from './routes/console.ts';
import { deadLetterRoutes } from './routes/dead-letters.ts';
import { erasureRoutes } from './routes/erasures.ts';
import { eventListRoutes } from './routes/event-list.ts';
import { eventStreamRoutes } from './routes/event-stream.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { liveRoutes } from './routes/live.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { openApiRoutes } from './routes/openapi.ts';
import { reportRoutes } from './routes/reports.ts';
import { segmentRoutes } from './routes/segment.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { userRoutes } from './routes/users.ts';

const MAX_REQUEST_ID_LENGTH = 128;

let document: OpenApiDocument | undefined;

/** The document /openapi.json serves, built once from allRouteDocs. */
export function openApiDocument(): OpenApiDocument {
  return (document ??= buildOpenApiDocument(allRouteDocs));
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
  // The socket's address (a trusted proxy's X-Forwarded-For only), for limits per client.
  app.use(clientAddress(options.trustedProxies));
  // Keys, scopes, rate limits and the internal token, by the one table of http/auth/access.ts.
  app.use(guard({
    ...(options.authFailuresPerMin ? { authFailures: new AuthFailureLimiter({ perMinute: options.authFailuresPerMin }) } : {}),
    apiKeys: options.apiKeys,
    openToNetwork: options.openToNetwork,
    internalToken: options.internalToken ?? deriveInternalToken(options.apiKeys),
    rateLimit: deps.rateLimit,
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  }));
  app.use(safeInput());

  app.route('/v1/events/stream', eventStreamRoutes(deps.ingest, options));
  app.route('/', segmentRoutes(deps.ingest, options, deps.rateLimit));
  app.route('/v1/events', eventRoutes(deps.ingest, deps.queries, options, deps.decoder));
  app.route('/v1/events', eventListRoutes(deps.queries, options.cursorSecret ?? randomBytes(32)));
  app.route('/v1/users', userRoutes(deps.queries));
  if (deps.actors !== undefined) app.route('/', actorRoutes(deps.actors));
  app.route('/v1/reports', reportRoutes(deps.queries, options.now ?? Date.now));
  app.route('/v1/analytics', analyticsRoutes(deps.queries, options.now ?? Date.now));
  app.route('/v1/dead-letters', deadLetterRoutes(deps.queries));
  if (deps.live !== undefined) app.route('/', liveRoutes(deps.live, deps.stream ?? { maxClients: 100, maxQueuedBytes: 1024 * 1024 }));
  if (deps.erasures !== undefined) app.route('/', erasureRoutes(deps.erasures, options));
  app.route('/', healthRoutes(deps.health));
  app.route('/', metricsRoutes(deps.metrics));
  app.route('/', openApiRoutes(openApiDocument()));
  app.route('/', consoleRoutes());

  answerErrors(app, options);
  return app;
}

/**
 * Make `app` answer unknown routes and thrown errors in the DESIGN.md error body. createApp
 * does it for its own app; a root app that mounts it (the CLI's) must do it too, because
 * Hono answers with the root's handlers, whose defaults are plain text.
 *
 * @example
 * const root = new Hono();
 * root.route('/', createApp(deps));
 * answerErrors(root, deps.options);
 */
export function answerErrors(app: Hono<EdgeEnv> | Hono, options: Pick<EdgeOptions, 'onError'>): void {
  const a = app as Hono<EdgeEnv>;
  a.notFound((c) => errorResponse(c, methodNotAllowed(a.routes, c.req.method, c.req.path) ?? new NotFoundError(`no route ${c.req.method} ${truncateCodePoints(c.req.path, 256)}`)));
  a.onError((err, c) => {
    if (!isExpected(err)) {
      const key = c.get('apiKeyName');
      options.onError?.(err, { requestId: c.get('requestId') ?? '', method: c.req.method, path: c.req.path, ...(key === undefined ? {} : { key }) });
    }
    return errorResponse(c, err);
  });
}
