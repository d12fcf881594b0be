// Every request runs inside a SERVER span, so what it causes — the Kafka publish, and
// through the message headers the worker's processing and flush — joins one trace. With
// tracing off this is the no-op tracer: one function call per request.
import type { MiddlewareHandler } from 'hono';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { tracer } from '../../otel/index.ts';

/** Hono middleware that wraps each request in a span named after its method and route. */
export function traceRequests(): MiddlewareHandler {
  return async (c, next) => {
    const span = tracer().startSpan(`${c.req.method} ${c.req.path}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path },
    });
    try {
      await context.with(trace.setSpan(context.active(), span), next);
      span.setAttribute('http.response.status_code', c.res.status);
      span.setAttribute('http.route', c.req.routePath);
      if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } finally {
      span.end();
    }
  };
}
