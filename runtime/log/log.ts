// Structured logs: one JSON object per line on stderr, so that stdout stays free for
// command output and any log shipper can parse them. Rule: a line written while a span is
// active carries its `trace_id` and `span_id` (OpenTelemetry's log field names), so a log
// line leads to its trace in Jaeger and back.
import { context, trace } from '@opentelemetry/api';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type Logger = {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  readonly level: LogLevel;
};

/** Turn an error into loggable fields, cause included. */
export function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { error: String(e) };
  const out: Record<string, unknown> = { error: e.message, errorName: e.name };
  const code = (e as { code?: unknown }).code;
  if (code !== undefined) out['errorCode'] = code;
  if (e.cause !== undefined) out['cause'] = e.cause instanceof Error ? e.cause.message : String(e.cause);
  return out;
}

/**
 * Create a logger that writes JSON lines at or above `level`.
 *
 * @example
 * const log = createLogger('info', { component: 'supervisor' });
 * log.info('worker started', { workerId: 1 });
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return;
    const sc = trace.getSpanContext(context.active());
    const ids = sc !== undefined && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
    process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level: lvl, msg, ...base, ...fields, ...ids })}\n`);
  };
  return {
    level,
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  };
}
