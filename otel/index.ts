// Observability: OpenTelemetry tracing, context propagation and Prometheus metrics.
export { startTracing, tracingRequested, tracer } from './tracing.ts';
export type { Tracing } from './tracing.ts';
export { injectHeaders, extractHeaders, spanContextOf } from './propagation.ts';
export type { MessageHeaders } from './propagation.ts';
export { createMetrics, renderAggregated, metricsContentType } from './metrics.ts';
export type { KeyflowMetrics, MetricsSnapshot } from './metrics.ts';
export { inSpan, postgresAttributes, redisAttributes, withDbSpans } from './spans.ts';
export { defineLiveMetrics } from './live-metrics.ts';
export type { LiveMetricProviders, LiveMetrics } from './live-metrics.ts';
