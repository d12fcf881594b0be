// Tracing starts before anything else when the standard OTEL_* variables ask for an
// exporter, and costs nothing when they do not: the SDK is not even loaded, and the
// @opentelemetry/api calls everywhere else fall through to its no-op tracer.
import { trace, type Tracer } from '@opentelemetry/api';

/** True when the environment asks for traces to be exported. */
export function tracingRequested(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER'];
  if (exporter !== undefined && exporter !== '') return exporter.split(',').some((e) => e.trim() !== 'none');
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

/** A running (or deliberately absent) tracing setup. */
export type Tracing = {
  readonly enabled: boolean;
  /** Export every finished span now. */
  flush(): Promise<void>;
  /** Flush and stop; a second call returns the same promise. */
  shutdown(): Promise<void>;
};

/**
 * Start the OpenTelemetry Node SDK for this thread if the environment asks for it. Each
 * worker thread calls this too: OpenTelemetry's globals are per thread.
 *
 * @example
 * const tracing = await startTracing('keyflow');
 * // … run …
 * await tracing.shutdown();
 */
export async function startTracing(serviceName: string, env = process.env): Promise<Tracing> {
  if (!tracingRequested(env)) {
    const done = Promise.resolve();
    return { enabled: false, flush: () => done, shutdown: () => done };
  }
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? serviceName,
    instrumentations: [],
  });
  sdk.start();
  let stopping: Promise<void> | undefined;
  const provider = trace.getTracerProvider() as { forceFlush?: () => Promise<void> };
  const delegate = (provider as { getDelegate?: () => { forceFlush?: () => Promise<void> } }).getDelegate?.();
  return {
    enabled: true,
    flush: async () => {
      await (delegate?.forceFlush?.() ?? provider.forceFlush?.());
    },
    shutdown: () => (stopping ??= sdk.shutdown().catch(() => undefined)),
  };
}

/** keyflow's tracer. */
export function tracer(): Tracer {
  return trace.getTracer('keyflow');
}
