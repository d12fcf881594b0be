// The scenarios: which phases each runs and with what traffic. Every scenario measures
// throughput in its first phase(s), at --rate (default: as fast as keyflow takes it), then —
// when that rate was "max" — latency in a `half` phase at half the throughput it measured,
// since latency at full speed is only the length of the queue.
import type { BenchOptions, ScenarioName } from './args.ts';
import type { PhaseSpec } from './phase.ts';

export type Scenario = {
  readonly name: ScenarioName;
  readonly description: string;
  readonly via: 'kafka' | 'http';
  /** Phases whose window gives keyflow's throughput. */
  readonly throughput: readonly PhaseSpec[];
  /** The phase after them, given the throughput they measured (messages/s). */
  readonly next: ((measuredPerSec: number) => PhaseSpec) | undefined;
  /** Which phase's latency is the headline: 'half', 'over' or the throughput phases. */
  readonly latencyPhase: string;
};

const DEFAULT_KAFKA_BATCH = 1000;
const DEFAULT_HTTP_BATCH = 500;

export function scenario(name: ScenarioName, o: BenchOptions): Scenario {
  const via = name === 'http' ? 'http' : o.via;
  const batch = o.batch ?? (via === 'http' ? DEFAULT_HTTP_BATCH : DEFAULT_KAFKA_BATCH);
  if (via === 'http' && batch > 1000) throw new RangeError(`--batch ${batch}: POST /v1/events takes at most 1000 events`);
  const dupRatio = o.dupRatio ?? (name === 'duplicates' ? 0.1 : 0);
  const hotKeyShare = name === 'hotkey' ? o.hotKeyShare : 0;
  const base = { via, rate: o.rate, batch, inFlight: o.clients, dupRatio, hotKeyShare } as const;
  const half = (measured: number): PhaseSpec => ({
    ...base,
    name: 'half',
    events: undefined,
    rate: Math.max(1, Math.round(measured / 2)),
    durationMs: o.latencySeconds * 1000,
    batch: via === 'http' ? Math.min(batch, 100) : batch,
    seed: o.seed + 100,
  });
  const latencyNext = o.rate === 'max' && o.latencySeconds > 0 ? half : undefined;
  const latencyPhase = latencyNext ? 'half' : 'throughput';
  switch (name) {
    case 'steady':
      return { name, via, description: `${fmt(o.events)} events as fast as keyflow takes them, Zipf(${o.zipf}) over ${fmt(o.users)} users${dupRatio > 0 ? `, ${dupRatio * 100}% resent` : ''}`, throughput: [{ ...base, name: 'main', events: o.events, seed: o.seed }], next: latencyNext, latencyPhase };
    case 'duplicates':
      return { name, via, description: `${fmt(o.events)} events of which ${Math.round(dupRatio * 100)}% are sent a second time (same payload, up to 20,000 events later)`, throughput: [{ ...base, name: 'main', events: o.events, seed: o.seed }], next: latencyNext, latencyPhase };
    case 'hotkey':
      return { name, via, description: `${fmt(o.events)} events, one key (u-hot) carrying ${Math.round(hotKeyShare * 100)}% of the traffic`, throughput: [{ ...base, name: 'main', events: o.events, seed: o.seed }], next: latencyNext, latencyPhase };
    case 'http': {
      const a = Math.ceil(o.events / 2);
      return {
        name,
        via,
        description: `${fmt(o.events)} events through POST /v1/events from ${o.clients} concurrent clients, half in batches of 100 and half in batches of 1000; then ${fmt(o.events)} more in one NDJSON stream (POST /v1/events/stream, one client)`,
        throughput: [
          { ...base, name: 'h100', events: a, batch: 100, seed: o.seed },
          { ...base, name: 'h1000', events: o.events - a, batch: 1000, seed: o.seed + 1 },
          // One client, one request: the edge's backpressure paces it (batch = body chunk).
          { ...base, name: 'stream', via: 'stream', events: o.events, batch: 1000, inFlight: 1, seed: o.seed + 2 },
        ],
        next: latencyNext,
        latencyPhase,
      };
    }
    case 'overload':
      return {
        name,
        via,
        description: `${fmt(o.events)} events at full speed to measure keyflow's rate R, then ${o.overloadSeconds} s at 2×R`,
        throughput: [{ ...base, name: 'main', events: o.events, rate: 'max', seed: o.seed }],
        next: (measured) => ({ ...base, name: 'over', events: undefined, rate: Math.max(1, Math.round(2 * measured)), durationMs: o.overloadSeconds * 1000, seed: o.seed + 200 }),
        latencyPhase: 'over',
      };
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
