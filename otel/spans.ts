// Client spans around the stores, with OpenTelemetry's semantic-convention attributes
// (`db.system.name`, `db.namespace`, `db.operation.name`, `server.*`), so that a trace in
// Jaeger shows how long each SQL statement or Redis round trip took. Rule: a span never
// changes what the wrapped call does — same result, same error — and with tracing off it is
// the no-op tracer's span: a few function calls.
import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { tracer } from './tracing.ts';

/**
 * Run `fn` inside a new span (a child of `parent`, by default the active context), which is
 * active while `fn` runs, marked as an error if `fn` throws, and ended when it settles.
 *
 * @example
 * const rows = await inSpan('SELECT events', { kind: SpanKind.CLIENT, attributes }, () => sql`…`);
 */
export async function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (e) {
    span.recordException(e instanceof Error ? e : String(e));
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}

/** The connection attributes of a store, read from its URL (no credentials). */
function serverAttributes(url: string): Attributes {
  try {
    const u = new URL(url);
    return { 'server.address': u.hostname, ...(u.port ? { 'server.port': Number(u.port) } : {}) };
  } catch {
    return {};
  }
}

/**
 * Attributes of a PostgreSQL client span for a database URL.
 *
 * @example
 * postgresAttributes('postgres://u:p@127.0.0.1:55432/keyflow'); // { 'db.system.name': 'postgresql', 'db.namespace': 'keyflow', … }
 */
export function postgresAttributes(url: string): Attributes {
  let namespace: string | undefined;
  try {
    namespace = decodeURIComponent(new URL(url).pathname.slice(1)) || undefined;
  } catch {
    namespace = undefined;
  }
  // `db.system` is the name older tools read; `db.system.name` the current convention.
  return { 'db.system.name': 'postgresql', 'db.system': 'postgresql', ...(namespace ? { 'db.namespace': namespace } : {}), ...serverAttributes(url) };
}

/** Attributes of a Redis client span for a Redis URL. */
export function redisAttributes(url: string): Attributes {
  return { 'db.system.name': 'redis', 'db.system': 'redis', ...serverAttributes(url) };
}

type AsyncMethods<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => Promise<R> : T[K] };

/**
 * Wrap every async method of a port in a CLIENT span named `<operation> <method>` (e.g.
 * `SELECT reportEvents`), so each query the edge makes is one span with its duration.
 *
 * @example
 * const queries = withDbSpans({ reportEvents: (q) => reportEvents(sql, q) }, postgresAttributes(url), 'SELECT');
 */
export function withDbSpans<T extends object>(port: T, attributes: Attributes, operation: string): AsyncMethods<T> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(port)) {
    if (typeof value !== 'function') {
      out[name] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => Promise<unknown>;
    out[name] = (...args: unknown[]) =>
      inSpan(`${operation} ${name}`, { kind: SpanKind.CLIENT, attributes: { ...attributes, 'db.operation.name': operation, 'db.query.summary': `${operation} ${name}` } }, () => fn.apply(port, args));
  }
  return out as AsyncMethods<T>;
}
