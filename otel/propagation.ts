// Trace context crosses process and thread boundaries as W3C trace-context strings: in Kafka
// message headers (producer → worker) and in plain worker messages. Rule: a missing or
// malformed header never fails a message; it only starts a new trace.
import { context, propagation, trace, ROOT_CONTEXT, type Context, type SpanContext } from '@opentelemetry/api';

/** Kafka message headers as kafkajs hands them over. */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Write the given (or active) context into a fresh header map. */
export function injectHeaders(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Read a context out of Kafka message headers. */
export function extractHeaders(headers: MessageHeaders | undefined): Context {
  if (headers === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, headers, {
    keys: (h) => Object.keys(h),
    get: (h, key) => {
      const v = h[key];
      const one = Array.isArray(v) ? v[0] : v;
      return one === undefined ? undefined : one.toString();
    },
  });
}

/** The span context of a context, if it carries a valid one. */
export function spanContextOf(ctx: Context): SpanContext | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc !== undefined && trace.isSpanContextValid(sc) ? sc : undefined;
}
