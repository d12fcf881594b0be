// Configuration is read once, at the edge of the process, from environment variables.
// Rule: every KEYFLOW_* variable is known to this schema; an unknown or invalid one stops
// start-up with a message that names the variable, so a typo never silently falls back to
// a default. The result is frozen and its field names carry their units.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
// The same loopback rule the edge applies to Host headers (a pure module, no I/O).
import { isLoopbackHost } from '../../http/auth/local-only.ts';
import { parseApiKeys } from './api-keys.ts';
import { MAIN_HEAP_MB_DEFAULT } from './heap.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

/** Each entry: environment variable → [field name, schema, default (as the env string)]. */
const variables = {
  DATABASE_URL: ['databaseUrl', z.string().url(), 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow'],
  REDIS_URL: ['redisUrl', z.string().url(), 'redis://127.0.0.1:56379'],
  KAFKA_BROKERS: ['kafkaBrokers', list.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'host:port')).min(1)), '127.0.0.1:59092'],
  PORT: ['port', int(0, 65535), '8080'],
  KEYFLOW_HOST: ['host', z.string().min(1), '127.0.0.1'],
  KEYFLOW_ADVERTISE_URL: ['advertiseUrl', z.union([z.literal('').transform(() => undefined), z.string().url()]), ''],
  KEYFLOW_TOPIC: ['topic', z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/), 'keyflow.events'],
  KEYFLOW_PARTITIONS: ['partitions', int(1, 10_000), '12'],
  KEYFLOW_REPLICATION_FACTOR: ['replicationFactor', int(1, 16), '1'],
  KEYFLOW_GROUP_ID: ['groupId', z.string().min(1), 'keyflow-runtime'],
  KEYFLOW_WORKERS: ['workers', int(1, 256), String(availableParallelism())],
  KEYFLOW_FLUSH_MAX_EVENTS: ['flushMaxEvents', int(1, 100_000), '2000'],
  KEYFLOW_FLUSH_INTERVAL_MS: ['flushIntervalMs', int(1, 600_000), '50'],
  KEYFLOW_DEDUP_WINDOW: ['dedupWindowEntries', int(0, 1_000_000), '1000'],
  KEYFLOW_DEDUP_WINDOW_MS: ['dedupWindowMs', int(0, 86_400_000), '300000'],
  // Per worker thread: dedup entries of its live actors (past it the least recently used go)
  // and of its passivated ones; ~200 bytes of heap each (bench/RESULTS.md).
  KEYFLOW_DEDUP_MAX_ENTRIES: ['dedupMaxEntries', int(0, 100_000_000), '200000'],
  KEYFLOW_COLD_DEDUP_ENTRIES: ['coldDedupEntries', int(0, 100_000_000), '100000'],
  KEYFLOW_ACTOR_IDLE_MS: ['actorIdleMs', int(1, 86_400_000), '60000'],
  KEYFLOW_MAX_ACTORS: ['maxActors', int(1, 10_000_000), '10000'],
  KEYFLOW_MAX_PENDING_EVENTS: ['maxPendingEvents', int(1, 10_000_000), '20000'],
  KEYFLOW_PARTITION_KEY: ['partitionKey', z.enum(['userId', 'id']), 'userId'],
  KEYFLOW_MAX_BODY_BYTES: ['maxBodyBytes', int(1024, 64 * 1024 * 1024), String(1024 * 1024)],
  // name:secret:scope+scope entries (./api-keys.ts); none = loopback clients only, unless KEYFLOW_AUTH=none.
  KEYFLOW_API_KEYS: ['apiKeys', z.string().transform((s, ctx) => {
    const parsed = parseApiKeys(s);
    for (const message of parsed.problems) ctx.addIssue({ code: 'custom', message });
    return parsed.keys;
  }), ''],
  // `none` opens a keyless keyflow to the network on purpose (warned at every start).
  KEYFLOW_AUTH: ['auth', z.enum(['keys', 'none']), 'keys'],
  // Signs GET /v1/events cursors; '' = a random secret per process (set one shared value for several edges).
  KEYFLOW_CURSOR_SECRET: ['cursorSecret', z.string(), ''],
  // Token bucket per API key, shared by every edge through Redis; unset = unlimited.
  KEYFLOW_RATE_LIMIT_PER_SEC: ['rateLimitPerSec', z.union([z.literal('').transform(() => undefined), z.coerce.number().positive().max(1_000_000)]), ''],
  KEYFLOW_RATE_LIMIT_BURST: ['rateLimitBurst', z.union([z.literal('').transform(() => undefined), int(1, 10_000_000)]), ''],
  // Shared by the processes of one deployment for /internal/*; derived from the API keys when unset.
  KEYFLOW_INTERNAL_TOKEN: ['internalToken', z.union([z.literal('').transform(() => undefined), z.string().min(16, 'at least 16 characters')]), ''],
  // Proves to the workers that the edge validated an event already (validated once, not twice);
  // unset = `keyflow all` makes one per process, separate edge and worker processes trust nothing.
  KEYFLOW_EDGE_TOKEN: ['edgeToken', z.union([z.literal('').transform(() => undefined), z.string().min(16, 'a shared secret of at least 16 characters (e.g. `openssl rand -base64 24`), the same for the edges and the workers').max(256, 'at most 256 characters')]), ''],
  // The longest a client may take to send a POST /v1/events body (408 past it).
  KEYFLOW_BODY_TIMEOUT_MS: ['bodyTimeoutMs', int(100, 600_000), '15000'],
  KEYFLOW_INGEST_POOL_THREADS: ['ingestPoolThreads', int(0, 64), String(Math.max(1, Math.floor(availableParallelism() / 2)))],
  KEYFLOW_INGEST_POOL_MIN_BYTES: ['ingestPoolMinBytes', int(0, 64 * 1024 * 1024), '65536'],
  KEYFLOW_RETENTION_DAYS: ['retentionDays', int(1, 36_500), '30'],
  KEYFLOW_PARTITIONS_AHEAD_DAYS: ['partitionsAheadDays', int(1, 365), '7'],
  KEYFLOW_REDIS_PREFIX: ['redisPrefix', z.string(), 'keyflow:'],
  KEYFLOW_SHUTDOWN_TIMEOUT_MS: ['shutdownTimeoutMs', int(100, 600_000), '9000'],
  KEYFLOW_LOG_LEVEL: ['logLevel', z.enum(['debug', 'info', 'warn', 'error', 'silent']), 'info'],
  KEYFLOW_PUBLISH_TIMEOUT_MS: ['publishTimeoutMs', int(100, 120_000), '5000'],
  KEYFLOW_WORKER_HEAP_MB: ['workerHeapMb', int(32, 65_536), '256'],
  // The main thread's: node takes it at launch (--max-old-space-size), see ./heap.ts.
  KEYFLOW_MAIN_HEAP_MB: ['mainHeapMb', int(32, 65_536), String(MAIN_HEAP_MB_DEFAULT)],
  // One worker's Kafka fetch: at most this many bytes per fetch (and 1 MiB of it per partition),
  // the broker answering once it has min bytes or after max wait (kafkajs maxBytes, minBytes, maxWaitTimeInMs).
  KEYFLOW_FETCH_MAX_BYTES: ['fetchMaxBytes', int(64 * 1024, 256 * 1024 * 1024), String(10 * 1024 * 1024)],
  KEYFLOW_FETCH_MIN_BYTES: ['fetchMinBytes', int(1, 64 * 1024 * 1024), '1'],
  KEYFLOW_FETCH_MAX_WAIT_MS: ['fetchMaxWaitMs', int(10, 30_000), '250'],
  KEYFLOW_MAX_RESTARTS: ['maxRestarts', int(0, 1000), '5'],
  KEYFLOW_RESTART_WINDOW_MS: ['restartWindowMs', int(1000, 86_400_000), '60000'],
  KEYFLOW_HEARTBEAT_TIMEOUT_MS: ['heartbeatTimeoutMs', int(500, 600_000), '5000'],
  KEYFLOW_FAULTS: ['faultsEnabled', z.enum(['0', '1']).transform((v) => v === '1'), '0'],
  // Minute rollups answer reports long after the raw events are dropped (never shorter than KEYFLOW_RETENTION_DAYS).
  KEYFLOW_ROLLUP_RETENTION_DAYS: ['rollupRetentionDays', int(1, 36_500), '400'],
  KEYFLOW_MAX_STREAM_CLIENTS: ['maxStreamClients', int(0, 100_000), '100'],
  KEYFLOW_STREAM_QUEUE_BYTES: ['streamQueueBytes', int(1024, 64 * 1024 * 1024), String(1024 * 1024)],
  KEYFLOW_LIVE_RECONCILE_MS: ['liveReconcileMs', int(100, 600_000), '2000'],
} as const;

/**
 * Variables that belong to other parts of the project (the local services script), known
 * here only so that the unknown-variable check does not reject them.
 */
const foreign = new Set([
  'KEYFLOW_SERVICES_DIR',
  'KEYFLOW_SERVICES_PROFILE',
  'KEYFLOW_PG_PORT',
  'KEYFLOW_REDIS_PORT',
  'KEYFLOW_KAFKA_PORT',
  'KEYFLOW_KAFKA_CONTROLLER_PORT',
  'KEYFLOW_JAEGER_OTLP_PORT',
  'KEYFLOW_JAEGER_UI_PORT',
  'KEYFLOW_PROMETHEUS_PORT',
]);

/** Variables whose values are secrets (or may hold one, as a URL's password): never printed. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'REDIS_URL', 'KEYFLOW_API_KEYS', 'KEYFLOW_CURSOR_SECRET', 'KEYFLOW_INTERNAL_TOKEN', 'KEYFLOW_EDGE_TOKEN', 'KEYFLOW_EDGE_TOKEN_PREVIOUS', 'KAFKA_SASL_PASSWORD']);

/**
 * Closed unless opened on purpose (DESIGN.md, Security): without API keys keyflow listens on
 * loopback only, unless KEYFLOW_AUTH=none says to open it; and `none` with keys is a contradiction.
 */
function exposureProblems(c: Config): string[] {
  if (c.auth === 'none' && c.apiKeys.length > 0) return ['KEYFLOW_AUTH=none: KEYFLOW_API_KEYS is set too; unset one of them'];
  if (c.auth === 'keys' && c.apiKeys.length === 0 && !isLoopbackHost(c.host)) {
    return [`KEYFLOW_HOST=${JSON.stringify(c.host)} is not a loopback address and KEYFLOW_API_KEYS is empty: every route, erasure included, would be open to the network. Set KEYFLOW_API_KEYS, listen on 127.0.0.1, or open it on purpose with KEYFLOW_AUTH=none`];
  }
  return [];
}

type Vars = typeof variables;
type FieldOf<K extends keyof Vars> = Vars[K][0];
type ValueOf<K extends keyof Vars> = z.output<Vars[K][1]>;

/** The parsed, frozen configuration. */
export type Config = Readonly<{ [K in keyof Vars as FieldOf<K>]: ValueOf<K> }>;

/** Raised when the environment holds an unknown or invalid setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'KEYFLOW_CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * Parse the environment into a frozen {@link Config}.
 *
 * @example
 * const config = loadConfig({ ...process.env, KEYFLOW_WORKERS: '4' });
 * config.workers; // 4
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(env)) {
    if (name.startsWith('KEYFLOW_') && !(name in variables) && !foreign.has(name)) {
      problems.push(`${name}: unknown variable (known: ${Object.keys(variables).filter((k) => k.startsWith('KEYFLOW_')).join(', ')})`);
    }
  }
  for (const [name, [field, schema, fallback]] of Object.entries(variables)) {
    const raw = env[name];
    const value = raw === undefined || raw === '' ? fallback : raw;
    const parsed = (schema as z.ZodType).safeParse(value);
    if (parsed.success) out[field] = parsed.data;
    // A secret's value is never echoed: the message names the variable (and the entry) only.
    else problems.push(`${SECRET_VARIABLES.has(name) ? name : `${name}=${JSON.stringify(value)}`}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (out['rateLimitPerSec'] === undefined && out['rateLimitBurst'] !== undefined && problems.length === 0) {
    problems.push('KEYFLOW_RATE_LIMIT_BURST: needs KEYFLOW_RATE_LIMIT_PER_SEC (without it requests are not limited)');
  }
  if (problems.length === 0) problems.push(...exposureProblems(out as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/**
 * The configuration of a `keyflow all` process: its edge and its worker threads share an edge
 * token (config reaches the threads in their workerData), a random one when none is set.
 *
 * @example
 * withEdgeToken(loadConfig({})).edgeToken; // e.g. 'Qm9uam91ciBsZSBtb25kZQ' (22 characters)
 */
export function withEdgeToken(config: Config): Config {
  if (config.edgeToken !== undefined) return config;
  return Object.freeze({ ...config, edgeToken: randomBytes(16).toString('base64url') });
}

/** Names of every variable the configuration reads, for documentation and tests. */
export const configVariables: readonly string[] = Object.keys(variables);
