// Configuration is read once, at the edge of the process, from environment variables.
// Rule: every KEYFLOW_* variable is known to this schema; an unknown or invalid one stops
// start-up with a message that names the variable, so a typo never silently falls back to
// a default. The result is frozen and its field names carry their units.
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
// The same loopback rule the edge applies to Host headers (a pure module, no I/O).
import { isLoopbackHost } from '../../http/auth/local-only.ts';
import { parseApiKeys } from './api-keys.ts';
import { MAIN_HEAP_MB_DEFAULT } from './heap.ts';
import { saslMechanismSchema, saslPasswordSchema, saslProblems, saslUsernameSchema, secretKafkaVariables, sslSchema } from './kafka-security.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0));

/** A shared secret: 16 to 256 characters, or unset (''). */
const secretSchema = z.union([
  z.literal('').transform(() => undefined),
  z.string().min(16, 'a shared secret of at least 16 characters (e.g. `openssl rand -base64 24`), the same for every process of the deployment').max(256, 'at most 256 characters'),
]);

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Durations as `30s`, `30m`, `1h`, `1d` (or bare milliseconds), in milliseconds. */
const durationMs = (max: number) =>
  z.string().transform((s, ctx) => {
    const m = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(s.trim());
    const unit = (m?.[2] ?? 'ms') as keyof typeof DURATION_UNITS_MS;
    const ms = m === null ? NaN : Number(m[1]) * DURATION_UNITS_MS[unit];
    if (!(ms >= 0 && ms <= max)) {
      ctx.addIssue({ code: 'custom', message: `a duration such as 30m, 1h or 1d, at most ${max / 86_400_000}d` });
      return z.NEVER;
    }
    return ms;
  });

/** Each entry: environment variable → [field name, schema, default (as the env string)]. */
const variables = {
  DATABASE_URL: ['databaseUrl', z.string().url(), 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow'],
  // The edge's report reads (a streaming replica, say); unset = DATABASE_URL.
  DATABASE_READ_URL: ['databaseReadUrl', z.union([z.literal('').transform(() => undefined), z.string().url()]), ''],
  REDIS_URL: ['redisUrl', z.string().url(), 'redis://127.0.0.1:56379'],
  KAFKA_BROKERS: ['kafkaBrokers', list.pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'host:port')).min(1)), '127.0.0.1:59092'],
  // For every Kafka client keyflow opens (./kafka-security.ts); unset = no SASL, no TLS.
  KAFKA_SASL_MECHANISM: ['kafkaSaslMechanism', saslMechanismSchema, ''],
  KAFKA_SASL_USERNAME: ['kafkaSaslUsername', saslUsernameSchema, ''],
  KAFKA_SASL_PASSWORD: ['kafkaSaslPassword', saslPasswordSchema, ''],
  KAFKA_SSL: ['kafkaSsl', sslSchema, ''],
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
  // Per worker, by message bytes beside the counts above: pending events and dead letters
  // (backpressure pauses past it) and one flush transaction (a larger flush is stored in parts).
  KEYFLOW_MAX_PENDING_BYTES: ['maxPendingBytes', int(64 * 1024, 4 * 1024 * 1024 * 1024), String(32 * 1024 * 1024)],
  KEYFLOW_FLUSH_MAX_BYTES: ['flushMaxBytes', int(64 * 1024, 1024 * 1024 * 1024), String(8 * 1024 * 1024)],
  // A dead letter keeps at most this much of its raw value, with the whole value's length and SHA-256.
  KEYFLOW_DEAD_LETTER_MAX_BYTES: ['deadLetterMaxBytes', int(0, 16 * 1024 * 1024), String(64 * 1024)],
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
  // The deployment's secret: signs every message keyflow produces (runtime/kafka/trust.ts), so
  // workers run only keyflow's commands and trust only the edge's events. The same in every
  // process and across restarts (`npm start` generates one into .env); unset = commands refused.
  KEYFLOW_EDGE_TOKEN: ['edgeToken', secretSchema, ''],
  // The secret before a rotation: still verifies messages signed with it, never signs.
  KEYFLOW_EDGE_TOKEN_PREVIOUS: ['edgeTokenPrevious', secretSchema, ''],
  // The longest a client may take to send a POST /v1/events body (408 past it).
  KEYFLOW_BODY_TIMEOUT_MS: ['bodyTimeoutMs', int(100, 600_000), '15000'],
  KEYFLOW_INGEST_POOL_THREADS: ['ingestPoolThreads', int(0, 64), String(Math.max(1, Math.floor(availableParallelism() / 2)))],
  KEYFLOW_INGEST_POOL_MIN_BYTES: ['ingestPoolMinBytes', int(0, 64 * 1024 * 1024), '65536'],
  KEYFLOW_RETENTION_DAYS: ['retentionDays', int(1, 36_500), '30'],
  // How far ahead of this server's clock an event's occurredAt may be (400 at the edge, `future` dead letter).
  KEYFLOW_MAX_FUTURE: ['maxFutureMs', durationMs(3_650 * 86_400_000), '1d'],
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
  // DESIGN.md's "No silent stop": a partition with lag and no progress (or no owner) this long is stalled.
  KEYFLOW_STALL_MS: ['stallMs', int(1_000, 3_600_000), '30000'],
  // The first retry of a fetched batch whose processing threw waits about this long; doubling, capped at 30 s.
  KEYFLOW_BATCH_RETRY_BASE_MS: ['batchRetryBaseMs', int(1, 30_000), '2000'],
  // TEST ONLY (refused without KEYFLOW_FAULTS=1): `partition:offset` — the batch holding that offset fails on every attempt.
  KEYFLOW_TEST_FAIL_BATCH: ['testFailBatch', z.string().regex(/^$|^\d{1,5}:\d{1,19}$/, 'partition:offset, e.g. 0:42').transform((v) => (v === '' ? undefined : parseFailBatch(v))), ''],
  // Bounded reads (DESIGN.md *Security*): every read statement of the edge ends past this (503 query_timeout).
  KEYFLOW_QUERY_TIMEOUT_MS: ['queryTimeoutMs', int(100, 3_600_000), '10000'],
  // Connections of the edge's read pool (reports, lookups); readiness, erasures and maintenance have their own.
  KEYFLOW_READ_POOL_SIZE: ['readPoolSize', int(1, 1000), '8'],
  // PostgreSQL work_mem (MiB) of each read connection: the per-user aggregates of distinct-user
  // reports hash in memory below it and spill to disk above it (PostgreSQL's default is 4).
  KEYFLOW_READ_WORK_MEM_MB: ['readWorkMemMb', int(1, 2048), '128'],
  // Failed authentications (401) one client address may make per minute before 429s; 0 = unlimited.
  KEYFLOW_AUTH_FAILURES_PER_MIN: ['authFailuresPerMin', int(0, 1_000_000), '30'],
  // Concurrent GET /v1/stream per API key (per client address without keys); the next is a 429.
  KEYFLOW_STREAMS_PER_KEY: ['streamsPerKey', int(1, 100_000), '5'],
  // Proxies whose X-Forwarded-For names the client (comma list of addresses); none = the socket's address only.
  KEYFLOW_TRUSTED_PROXIES: ['trustedProxies', list.pipe(z.array(z.string().refine((a) => isIP(a) !== 0, 'an IP address'))), ''],
  // Browser origins CORS allows on the Segment-compatible routes: `*`, a comma list of origins,
  // or `none`; unset = `*` when KEYFLOW_API_KEYS is set, none without keys.
  KEYFLOW_CORS_ORIGINS: ['corsOrigins', list.pipe(z.array(z.union([z.literal('*'), z.literal('none'), z.url({ protocol: /^https?$/ }).refine((u) => new URL(u).origin === u, 'an origin: scheme://host[:port], no path')]))).transform((l) => (l.length === 0 ? undefined : l.filter((o) => o !== 'none'))), ''],
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

/** Where KEYFLOW_TEST_FAIL_BATCH makes a batch fail: a partition and one offset in it. */
export type FailBatchSwitch = { readonly partition: number; readonly offset: string };

function parseFailBatch(v: string): FailBatchSwitch {
  const [partition = '', offset = ''] = v.split(':');
  return { partition: Number(partition), offset: BigInt(offset).toString() };
}

/** Variables whose values are secrets (or may hold one, as a URL's password): never printed. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'DATABASE_READ_URL', 'REDIS_URL', 'KEYFLOW_API_KEYS', 'KEYFLOW_CURSOR_SECRET', 'KEYFLOW_INTERNAL_TOKEN', 'KEYFLOW_EDGE_TOKEN', 'KEYFLOW_EDGE_TOKEN_PREVIOUS', ...secretKafkaVariables]);

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
  if (problems.length === 0) problems.push(...saslProblems(out));
  if (out['rateLimitPerSec'] === undefined && out['rateLimitBurst'] !== undefined && problems.length === 0) {
    problems.push('KEYFLOW_RATE_LIMIT_BURST: needs KEYFLOW_RATE_LIMIT_PER_SEC (without it requests are not limited)');
  }
  if (out['edgeToken'] === undefined && out['edgeTokenPrevious'] !== undefined && problems.length === 0) {
    problems.push('KEYFLOW_EDGE_TOKEN_PREVIOUS: needs KEYFLOW_EDGE_TOKEN (the previous secret only verifies; the current one signs)');
  }
  if (out['testFailBatch'] !== undefined && out['faultsEnabled'] !== true && problems.length === 0) {
    problems.push('KEYFLOW_TEST_FAIL_BATCH: a test-only switch that makes a batch fail on purpose; it needs KEYFLOW_FAULTS=1 as well');
  }
  if (problems.length === 0) problems.push(...exposureProblems(out as Config));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as Config;
}

/** Names of every variable the configuration reads, for documentation and tests. */
export const configVariables: readonly string[] = Object.keys(variables);
