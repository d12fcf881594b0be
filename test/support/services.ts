// The preflight of every integration test: are the real PostgreSQL, Redis and Kafka there?
// Rule: when one is not, the run stops with exactly one line per missing service that names
// it, its address, why, and the command that starts it — never a stack of driver retries.
// Endpoints come from DATABASE_URL / REDIS_URL / KAFKA_BROKERS, else from `.env` (written by
// `npm run services -- up`), else from the configuration defaults.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { repoRoot, waitReachable, type Endpoint } from '../../compose/local/index.ts';
import { loadConfig } from '../../runtime/config/index.ts';
import { kafkaSecurity } from '../../runtime/kafka/index.ts';

export type ServiceName = 'postgres' | 'redis' | 'kafka';

/** Where the services are, as the application would read it. */
export type ServiceUrls = Readonly<{ databaseUrl: string; redisUrl: string; kafkaBrokers: readonly string[] }>;

export type ReachOptions = Readonly<{
  /** Variables to read instead of `process.env` merged over `.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** How long to keep trying before giving up (default 5000). */
  timeoutMs?: number;
}>;

/** Raised when a service does not answer; its message is the one line to show. */
export class ServiceUnreachableError extends Error {
  override readonly name = 'ServiceUnreachableError';
  readonly code = 'KEYFLOW_SERVICE_UNREACHABLE';
  readonly services: readonly ServiceName[];
  constructor(services: readonly ServiceName[], lines: readonly string[]) {
    super(lines.join('\n'));
    this.services = services;
    // The message says everything; a stack trace would only bury it in the test report.
    this.stack = this.message;
  }
}

const displayName: Readonly<Record<ServiceName, string>> = { postgres: 'PostgreSQL', redis: 'Redis', kafka: 'Kafka' };

/** The variables tests run with: the real environment wins over `.env`. */
export function testEnv(): Readonly<Record<string, string | undefined>> {
  const file = join(repoRoot, '.env');
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return { ...fromFile, ...process.env };
}

/** The connection settings, defaults filled in by the application's own configuration. */
export function serviceUrls(env: Readonly<Record<string, string | undefined>> = testEnv()): ServiceUrls {
  // Only the three connection variables: other KEYFLOW_* settings are none of the preflight's business.
  const c = loadConfig({ DATABASE_URL: env['DATABASE_URL'], REDIS_URL: env['REDIS_URL'], KAFKA_BROKERS: env['KAFKA_BROKERS'] });
  return { databaseUrl: c.databaseUrl, redisUrl: c.redisUrl, kafkaBrokers: c.kafkaBrokers };
}

/**
 * A kafkajs client for tests and benchmarks, authenticated as keyflow is (KAFKA_SASL_*,
 * KAFKA_SSL of the test environment, or of `env`); `options` may name other brokers or a retry policy.
 *
 * @example
 * const admin = testKafka('keyflow-test-lag').admin();
 */
export function testKafka(clientId: string, options: Partial<KafkaConfig> = {}, env: Readonly<Record<string, string | undefined>> = testEnv()): Kafka {
  const names = ['KAFKA_BROKERS', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SSL'];
  const c = loadConfig(Object.fromEntries(names.map((n) => [n, env[n]])));
  return new Kafka({ clientId, brokers: [...c.kafkaBrokers], ...kafkaSecurity(c), logLevel: logLevel.NOTHING, ...options });
}

/**
 * Reject with a one-line {@link ServiceUnreachableError} unless `name` answers in time.
 *
 * @example
 * before(() => assertReachable('kafka'));
 */
export async function assertReachable(name: ServiceName, options: ReachOptions = {}): Promise<void> {
  const line = await unreachableLine(name, serviceUrls(options.env ?? testEnv()), options.timeoutMs ?? 5000);
  if (line !== undefined) throw new ServiceUnreachableError([name], [line]);
}

/**
 * Check all three services at once and return their URLs; reject with one line per
 * service that does not answer.
 *
 * @example
 * let urls: ServiceUrls;
 * before(async () => { urls = await requireServices(); });
 */
export async function requireServices(options: ReachOptions = {}): Promise<ServiceUrls> {
  const urls = serviceUrls(options.env ?? testEnv());
  const names: readonly ServiceName[] = ['postgres', 'redis', 'kafka'];
  const lines = await Promise.all(names.map((n) => unreachableLine(n, urls, options.timeoutMs ?? 5000)));
  const missing = names.filter((_, i) => lines[i] !== undefined);
  if (missing.length > 0) throw new ServiceUnreachableError(missing, lines.filter((l) => l !== undefined));
  return urls;
}

async function unreachableLine(name: ServiceName, urls: ServiceUrls, timeoutMs: number): Promise<string | undefined> {
  const endpoint = endpointOf(name, urls);
  const r = await waitReachable(endpoint, timeoutMs);
  if (r.reachable) return undefined;
  return `keyflow test: ${displayName[name]} is not reachable at ${endpoint.host}:${endpoint.port} (${r.reason}) — start it with: npm run services -- up`;
}

function endpointOf(name: ServiceName, urls: ServiceUrls): Endpoint {
  switch (name) {
    case 'postgres':
      return fromUrl(urls.databaseUrl, 5432);
    case 'redis':
      return fromUrl(urls.redisUrl, 6379);
    case 'kafka': {
      const broker = urls.kafkaBrokers[0] ?? '';
      const at = broker.lastIndexOf(':');
      return { host: broker.slice(0, at), port: Number(broker.slice(at + 1)) };
    }
  }
}

function fromUrl(url: string, defaultPort: number): Endpoint {
  const u = new URL(url);
  // URL keeps the brackets of an IPv6 literal; sockets want the bare address.
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? defaultPort : Number(u.port) };
}
