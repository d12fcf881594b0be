// Reading traces back from the real Jaeger through its query API (`/api/traces`), for the
// tracing tests. Rule: tests name their own service (OTEL_SERVICE_NAME), so they only ever
// see their own traces in a Jaeger shared by everyone on the machine.
import { jaegerOtlpUrl, jaegerQueryUrl, loadSettings, waitReachable } from '../../compose/local/index.ts';
import { testEnv } from './services.ts';

type Tag = { key: string; type: string; value: unknown };
type RawSpan = {
  traceID: string;
  spanID: string;
  operationName: string;
  references?: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags?: Tag[];
  processID: string;
};
type RawTrace = { traceID: string; spans: RawSpan[]; processes: Record<string, { serviceName: string }> };

/** One span as the tests look at it. */
export type JaegerSpan = {
  readonly traceId: string;
  readonly spanId: string;
  readonly name: string;
  /** The CHILD_OF reference: the parent span, in this trace. */
  readonly parentId: string | undefined;
  /** FOLLOWS_FROM references: OpenTelemetry links, possibly to other traces. */
  readonly links: readonly { traceId: string; spanId: string }[];
  /** Microseconds. */
  readonly durationUs: number;
  readonly service: string;
  readonly attributes: Readonly<Record<string, unknown>>;
};

/** Where the test processes send traces, and where the tests read them. */
export function jaegerEndpoints(): { otlp: string; query: string } {
  const s = loadSettings(testEnv());
  return { otlp: jaegerOtlpUrl(s), query: jaegerQueryUrl(s) };
}

/** Fail with the command that starts Jaeger unless its query API answers. */
export async function requireJaeger(): Promise<void> {
  const url = new URL(jaegerEndpoints().query);
  const r = await waitReachable({ host: url.hostname, port: Number(url.port) }, 5_000);
  if (!r.reachable) throw new Error(`Jaeger's query API at ${url.host}: ${r.reason} — start it with: npm run services -- up jaeger`);
}

function flatten(t: RawTrace): JaegerSpan[] {
  return t.spans.map((s) => ({
    traceId: s.traceID,
    spanId: s.spanID,
    name: s.operationName,
    parentId: s.references?.find((r) => r.refType === 'CHILD_OF' && r.traceID === s.traceID)?.spanID,
    links: (s.references ?? []).filter((r) => r.refType === 'FOLLOWS_FROM' || r.traceID !== s.traceID).map((r) => ({ traceId: r.traceID, spanId: r.spanID })),
    durationUs: s.duration,
    service: t.processes[s.processID]?.serviceName ?? '',
    attributes: Object.fromEntries((s.tags ?? []).map((tag) => [tag.key, tag.value])),
  }));
}

/**
 * Every span of the service's recent traces (each trace whole, other services' spans too).
 *
 * @example
 * const spans = await jaegerSpans('keyflow-t-1a2b');
 */
export async function jaegerSpans(service: string, limit = 200): Promise<JaegerSpan[]> {
  const res = await fetch(`${jaegerEndpoints().query}/api/traces?service=${encodeURIComponent(service)}&limit=${limit}&lookback=1h`);
  if (res.status === 404 || res.status === 400) return []; // the service has sent nothing yet
  if (!res.ok) throw new Error(`Jaeger /api/traces answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data: RawTrace[] | null };
  return (body.data ?? []).flatMap(flatten);
}

/** One trace by id (empty when Jaeger does not have it yet). */
export async function jaegerTrace(traceId: string): Promise<JaegerSpan[]> {
  const res = await fetch(`${jaegerEndpoints().query}/api/traces/${traceId}`);
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`Jaeger /api/traces/${traceId} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { data: RawTrace[] | null };
  return (body.data ?? []).flatMap(flatten);
}
