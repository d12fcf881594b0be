// Every request runs inside a SERVER span, so what it causes — the Kafka publish, and
// through the message headers the worker's processing and flush — joins one trace. With
// tracing off this is the no-op tracer: one function call per request.
//
// Rule: the span is named after the route pattern (`GET /v1/events/:id`), never the raw
// path, and `onRequest` is told of every request — route, status, duration and the request
// id that X-Request-Id returned — while the span is still active, so an access log line
// written there carries the trace's ids and the request id together.
import type { MiddlewareHandler } from 'hono';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { tracer } from '../../otel/index.ts';

/** One finished request, as the access log and the duration histogram see it. */
export type RequestRecord = {
  readonly method: string;
  /** The route pattern that answered, or `unmatched` for a 404 without a route. */
  readonly route: string;
  readonly path: string;
  readonly status: number;
  readonly seconds: number;
  /** The id the response carries in X-Request-Id ('' if none). */
  readonly requestId: string;
};

export type TraceOptions = { readonly onRequest?: (r: RequestRecord) => void };

/** Hono middleware that wraps each request in a span named after its method and route. */
export function traceRequests(options: TraceOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const url = new URL(c.req.url);
    const span = tracer().startSpan(`${c.req.method} ${c.req.path}`, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': c.req.method,
        'url.path': c.req.path,
        'url.scheme': url.protocol.replace(/:$/, ''),
        'server.address': url.hostname,
        ...(url.port ? { 'server.port': Number(url.port) } : {}),
        ...(c.req.header('user-agent') ? { 'user_agent.original': c.req.header('user-agent') } : {}),
      },
    });
    const active = trace.setSpan(context.active(), span);
    try {
      await context.with(active, next);
    } finally {
      const status = c.res.status;
      const matched = c.req.routePath;
      const route = matched === '' || matched === '*' || matched === '/*' ? 'unmatched' : matched;
      const requestId = c.res.headers.get('x-request-id') ?? '';
      span.updateName(`${c.req.method} ${route === 'unmatched' ? c.req.path : route}`);
      span.setAttribute('http.response.status_code', status);
      if (route !== 'unmatched') span.setAttribute('http.route', route);
      if (requestId !== '') span.setAttribute('http.request.header.x-request-id', [requestId]);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      const record: RequestRecord = { method: c.req.method, route, path: c.req.path, status, seconds: (performance.now() - started) / 1000, requestId };
      context.with(active, () => options.onRequest?.(record));
      span.end();
    }
  };
}
