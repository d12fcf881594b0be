// The bench's command line, parsed once into a frozen options object whose names carry units.
// Rule: an unknown flag or a bad value stops the bench with a message naming the flag.
import { parseArgs } from 'node:util';

export const SCENARIOS = ['steady', 'duplicates', 'hotkey', 'http', 'overload'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
export type Baseline = 'kafka' | 'postgres' | 'naive' | 'peer';
export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type BenchCodec = (typeof CODECS)[number];

export type BenchOptions = Readonly<{
  scenarios: readonly ScenarioName[];
  /** Distinct events of the main phase. */
  events: number;
  rate: number | 'max';
  via: 'kafka' | 'http';
  /** How the bench's Kafka producer compresses its batches (via kafka only). */
  codec: BenchCodec;
  json: string | undefined;
  outDir: string;
  /** Seconds of the half-rate latency phase (0: none). */
  latencySeconds: number;
  /** Seconds of the 2× phase of `overload`. */
  overloadSeconds: number;
  dupRatio: number | undefined;
  users: number;
  zipf: number;
  hotKeyShare: number;
  batch: number | undefined;
  clients: number;
  naiveSample: number;
  kafkaSample: number | undefined;
  copySample: number;
  baselines: ReadonlySet<Baseline>;
  keyflowEnv: Readonly<Record<string, string>>;
  cpuProf: boolean;
  /** Run keyflow compiled (tsc → <out>/build, as the Dockerfile runs dist/) instead of through tsx. */
  build: boolean;
  seed: number;
  keep: boolean;
  /** Added to the expected count: makes the exactness check fail on purpose (tests). */
  expectOffset: number;
  timeoutSeconds: number | undefined;
  help: boolean;
}>;

export const USAGE = `usage: npm run bench -- [options]

  --events N            distinct events of the main phase (default 200000)
  --rate R|max          main phase send rate in events/s (default max)
  --via kafka|http      how events enter keyflow (default kafka; scenario http always uses http)
  --codec NAME          compression of the bench's Kafka batches: none | gzip | snappy | lz4 | zstd
                        (default none; what keyflow's consumer decodes)
  --scenario NAME       ${SCENARIOS.join(' | ')} | all, or a comma list (default steady)
                        (--scenario queries: the read routes over a loaded data set; see bench/queries/main.ts)
                        (--scenario workers: 1, 2, 3 worker processes on the same events; see bench/workers.ts)
  --json FILE           write the result as JSON (an array when several scenarios run)
  --out DIR             where the Markdown reports and charts go (default bench/out)
  --latency-seconds S   half-rate phase that measures latency (default 15; 0 skips it)
  --duration S          seconds of the 2x phase of overload (default 60)
  --dup-ratio F         share of events resent (default 0; 0.1 in duplicates)
  --users N             distinct users (default 10000)   --zipf S   Zipf exponent (default 0.8)
  --hot-share F         share of the hot key in hotkey (default 0.3)
  --batch N             messages per Kafka send / events per HTTP request (default 1000 / 500)
  --clients N           Kafka sends in flight / concurrent HTTP clients (default 4)
  --naive-sample N      events the naive pipeline stores (default 20000)
  --kafka-sample N      messages the raw Kafka consumer reads (default: all)
  --copy-sample N       rows the raw COPY writes (default 500000)
  --baselines LIST      kafka,postgres,naive,peer or none (default kafka,postgres,naive); peer = Kafka
                        Connect + Debezium's JDBC sink (upsert on the key) on the same events
  --keyflow-env K=V     extra environment for keyflow (repeatable), e.g. KEYFLOW_FLUSH_MAX_EVENTS=5000
  --cpu-prof            write CPU profiles of keyflow to <out>/prof/ and summarize them
  --build               run keyflow compiled to JavaScript (tsc into <out>/build), as in production,
                        instead of through tsx (the default, like npm start and the tests)
  --seed N              (default 1)        --keep     keep the database and topic
  --timeout S           longest wait for the events to be counted (default: derived)
  --expect-offset N     testing only: expect N more distinct events than were sent, so that the
                        exactness check must fail
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'KEYFLOW_BENCH_USAGE';
}

/** A numeric flag's value, or `d` when absent; a bad one is a UsageError naming the flag. */
export const num = (flag: string, v: string | undefined, d: number, o: { min?: number; max?: number; int?: boolean } = {}): number => {
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || (o.int && !Number.isInteger(n)) || n < (o.min ?? 0) || n > (o.max ?? Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`--${flag}: ${JSON.stringify(v)} is not ${o.int ? 'an integer' : 'a number'} in [${o.min ?? 0}, ${o.max ?? '∞'}]`);
  }
  return n;
};

export function parseOptions(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        events: { type: 'string' }, rate: { type: 'string' }, via: { type: 'string' }, codec: { type: 'string' }, scenario: { type: 'string' }, json: { type: 'string' },
        out: { type: 'string' }, 'latency-seconds': { type: 'string' }, duration: { type: 'string' }, 'dup-ratio': { type: 'string' },
        users: { type: 'string' }, zipf: { type: 'string' }, 'hot-share': { type: 'string' }, batch: { type: 'string' }, clients: { type: 'string' },
        'naive-sample': { type: 'string' }, 'kafka-sample': { type: 'string' }, 'copy-sample': { type: 'string' }, baselines: { type: 'string' },
        'keyflow-env': { type: 'string', multiple: true }, 'cpu-prof': { type: 'boolean' }, build: { type: 'boolean' }, seed: { type: 'string' }, keep: { type: 'boolean' },
        'expect-offset': { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const scenarioArg = values.scenario ?? 'steady';
  const scenarios = scenarioArg === 'all' ? [...SCENARIOS] : scenarioArg.split(',').map((s) => s.trim());
  for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')}, all)`);
  const via = values.via ?? 'kafka';
  if (via !== 'kafka' && via !== 'http') throw new UsageError(`--via: expected kafka or http, got ${JSON.stringify(via)}`);
  const codec = values.codec ?? 'none';
  if (!(CODECS as readonly string[]).includes(codec)) throw new UsageError(`--codec: expected ${CODECS.join(', ')}, got ${JSON.stringify(codec)}`);
  const rate = values.rate === undefined || values.rate === 'max' ? 'max' : num('rate', values.rate, 0, { min: 1 });
  const baselineArg = values.baselines ?? 'kafka,postgres,naive';
  const baselines = new Set<Baseline>();
  if (baselineArg !== 'none') {
    for (const b of baselineArg.split(',').map((x) => x.trim())) {
      if (b !== 'kafka' && b !== 'postgres' && b !== 'naive' && b !== 'peer') throw new UsageError(`--baselines: unknown baseline ${JSON.stringify(b)} (known: kafka, postgres, naive, peer, none)`);
      baselines.add(b);
    }
  }
  const keyflowEnv: Record<string, string> = {};
  for (const kv of values['keyflow-env'] ?? []) {
    const at = kv.indexOf('=');
    if (at <= 0) throw new UsageError(`--keyflow-env: expected NAME=VALUE, got ${JSON.stringify(kv)}`);
    keyflowEnv[kv.slice(0, at)] = kv.slice(at + 1);
  }
  return Object.freeze({
    scenarios: scenarios as ScenarioName[],
    events: num('events', values.events, 200_000, { min: 1, int: true }),
    rate,
    via,
    codec: codec as BenchCodec,
    json: values.json,
    outDir: values.out ?? 'bench/out',
    latencySeconds: num('latency-seconds', values['latency-seconds'], 15, { max: 3600 }),
    overloadSeconds: num('duration', values.duration, 60, { min: 1, max: 3600 }),
    dupRatio: values['dup-ratio'] === undefined ? undefined : num('dup-ratio', values['dup-ratio'], 0, { max: 1 }),
    users: num('users', values.users, 10_000, { min: 1, int: true }),
    zipf: num('zipf', values.zipf, 0.8, { max: 5 }),
    hotKeyShare: num('hot-share', values['hot-share'], 0.3, { max: 1 }),
    batch: values.batch === undefined ? undefined : num('batch', values.batch, 0, { min: 1, max: 10_000, int: true }),
    clients: num('clients', values.clients, 4, { min: 1, max: 256, int: true }),
    naiveSample: num('naive-sample', values['naive-sample'], 20_000, { min: 1, int: true }),
    kafkaSample: values['kafka-sample'] === undefined ? undefined : num('kafka-sample', values['kafka-sample'], 0, { min: 1, int: true }),
    copySample: num('copy-sample', values['copy-sample'], 500_000, { min: 1, int: true }),
    baselines,
    keyflowEnv,
    cpuProf: values['cpu-prof'] ?? false,
    build: values.build ?? false,
    seed: num('seed', values.seed, 1, { int: true }),
    keep: values.keep ?? false,
    expectOffset: num('expect-offset', values['expect-offset'], 0, { min: -1e9, int: true }),
    timeoutSeconds: values.timeout === undefined ? undefined : num('timeout', values.timeout, 0, { min: 1 }),
    help: values.help ?? false,
  });
}
