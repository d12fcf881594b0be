// The shape of one scenario's result: what --json writes and the reports are made from.
// Rule: the documented fields (events, scenario, machine.cpus/node, keyflow.eventsPerSec/
// p50Ms/p95Ms/p99Ms/peakRssMiB, rawKafka.eventsPerSec, rawPostgres.rowsPerSec,
// naive.eventsPerSec, ratios.*) are always present; a baseline that was not run is null.
import type { RawKafkaResult } from './baselines/raw-kafka.ts';
import type { NaiveResult } from './baselines/naive.ts';
import type { PeerResult } from './baselines/peer.ts';
import type { RawPostgresResult } from './baselines/raw-postgres.ts';
import type { Exactness } from './exactness.ts';
import type { Machine } from './machine.ts';
import type { LatencyStats } from './measure.ts';
import type { CpuByComponent } from './cpu.ts';
import type { ProfileSummary } from './profile.ts';

export type PhaseResult = {
  readonly name: string;
  readonly via: 'kafka' | 'http' | 'stream';
  /** Target send rate (messages/s) or 'max'. */
  readonly rate: number | 'max';
  readonly batch: number;
  readonly inFlight: number;
  readonly distinct: number;
  /** Messages sent, resends included. */
  readonly messages: number;
  readonly resends: number;
  readonly firstSentAt: number;
  readonly lastAckedAt: number;
  /** When the rollups first counted every distinct event of this phase (undefined: never). */
  readonly countedAt: number | undefined;
  /** Messages acknowledged per second while sending. */
  readonly sendRatePerSec: number;
  /** Messages per second from the first send to the last count. */
  readonly eventsPerSec: number;
  /** Distinct events stored per second, same window. */
  readonly rowsPerSec: number;
  readonly peakRssMiB: number;
  readonly cpuSeconds: number;
  /** CPU seconds of the whole machine in the phase's window, by who used them (machine-wide: other users of the services count too). */
  readonly cpu: CpuByComponent & { readonly wallSeconds: number };
  /** Most events pending in keyflow's workers at once (keyflow_pending_events, scraped every 0.5 s). */
  readonly maxPendingEvents: number;
  readonly latency?: LatencyStats;
  /** hotkey: latency of the hot key's events and of every other key's. */
  readonly hotKey?: LatencyStats;
  readonly otherKeys?: LatencyStats;
  /** http: request latency of POST /v1/events; stream: the one POST /v1/events/stream, first byte to answer. */
  readonly http?: { readonly requests: number; readonly retries: number; readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** Why the phase did not finish, when it did not. */
  readonly incomplete?: string;
};

export type Timeline = {
  /** Epoch ms that t = 0 stands for (the first send). */
  readonly t0: number;
  /** Per second since t0: messages acknowledged, distinct events newly counted. */
  readonly sentPerSec: number[];
  readonly countedPerSec: number[];
  readonly latencyBySec: { sec: number; events: number; p50Ms: number; p99Ms: number }[];
  readonly rss: { s: number; mib: number }[];
  /** From /metrics: events pending in keyflow, and messages sent but not yet consumed (Kafka backlog). */
  readonly pending: { s: number; n: number }[];
  readonly backlog: { s: number; n: number }[];
  readonly phases: { name: string; startS: number; endS: number }[];
};

export type BenchResult = {
  readonly scenario: string;
  readonly description: string;
  /** Distinct events of the throughput phases (--events). */
  readonly events: number;
  /** Distinct events sent in the whole run (every phase), and messages (resends included). */
  readonly totalEvents: number;
  readonly messages: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: string;
  readonly machine: Machine;
  readonly config: Readonly<Record<string, unknown>>;
  readonly keyflow: {
    /** Messages (resends included) per second, first send → last counted, over the throughput phases. */
    readonly eventsPerSec: number;
    /** Distinct events stored per second, same window: compared with raw COPY. */
    readonly rowsPerSec: number;
    readonly durationMs: number;
    /** Send → queryable, over every event of `latencyPhase`. */
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly latencyPhase: string;
    readonly latencyMethod: string;
    readonly latencyResolutionMs: number;
    readonly peakRssMiB: number;
    readonly cpuSeconds: number;
    readonly startMs: number;
    readonly exitCode: number | null;
    readonly phases: readonly PhaseResult[];
    readonly overload?: { readonly targetRatePerSec: number; readonly achievedSendRatePerSec: number; readonly seconds: number; readonly peakRssMiB: number; readonly peakHeapMiB?: Readonly<Record<string, number>>; readonly lost: number; readonly drainMs: number | undefined };
  };
  readonly rawKafka: (RawKafkaResult & { readonly sampled: boolean }) | null;
  readonly rawPostgres: (RawPostgresResult & { readonly sampled: boolean }) | null;
  readonly naive: (NaiveResult & { readonly sampled: boolean }) | null;
  /** Kafka Connect + JDBC sink on the same events (`--baselines peer`). */
  readonly peer?: PeerResult | null;
  readonly ratios: { readonly vsNaive: number | null; readonly vsRawPostgres: number | null; readonly vsRawKafka: number | null; readonly vsPeer?: number | null };
  readonly exactness: Exactness;
  /** Baselines that failed (their figure is null); any makes the run fail. */
  readonly baselineErrors: readonly string[];
  readonly timeline: Timeline;
  readonly profile?: ProfileSummary;
  readonly report?: string;
};
