// `up`, `status` and `down` over the local services: the three keyflow needs (PostgreSQL,
// Redis, Kafka) and the two it is observed with (Jaeger, Prometheus), which start only when
// named, because `npm start` does not need them and Jaeger's first build takes minutes.
// Rule: a service that already answers on its port is left alone, whoever started it, so `up`
// is idempotent and cheap when everything runs; `down` stops only what `up` started.
import { join } from 'node:path';
import { aptInstall } from './apt.ts';
import { ensureEnvSecret, writeEnvFile } from './env-file.ts';
import { jaegerService } from './jaeger.ts';
import { kafkaService } from './kafka.ts';
import { postgresService } from './postgres.ts';
import { probeTcp, type Endpoint } from './probe.ts';
import { prometheusService } from './prometheus.ts';
import { say } from './progress.ts';
import { redisService } from './redis.ts';
import { checkCanInstall } from './requirements.ts';
import { ServiceStartError, type LocalService, type ServiceName } from './service.ts';
import { connectionEnv, loadSettings } from './settings.ts';

// All start concurrently; Kafka's first Maven resolution (or Jaeger's first build) is the long pole of a cold up.
const services: readonly LocalService[] = [postgresService, redisService, kafkaService, jaegerService, prometheusService];

/** What keyflow itself needs; `up` without names starts these. */
export const coreServices: readonly ServiceName[] = ['postgres', 'redis', 'kafka'];
/** What keyflow is observed with; started when named (and by `npm test` for its tracing and dashboard tests). */
export const observabilityServices: readonly ServiceName[] = ['jaeger', 'prometheus'];
export const allServices: readonly ServiceName[] = services.map((s) => s.name);

export type Env = Readonly<Record<string, string | undefined>>;

export type ServiceStatus =
  | Readonly<{ name: ServiceName; endpoint: Endpoint; up: true }>
  | Readonly<{ name: ServiceName; endpoint: Endpoint; up: false; reason: string }>;

/** What `up` found or did, per service it was asked for. */
export type UpResult = Readonly<Partial<Record<ServiceName, 'already running' | 'started'>>>;

/** What `down` did, per service. */
export type DownResult = Readonly<Record<ServiceName, 'stopped' | 'not running' | 'left running (started elsewhere, not from this checkout)'>>;

/** Raised by `servicesUp` when one or more services failed; each failure is a cause. */
export class ServicesUpError extends AggregateError {
  override readonly name = 'ServicesUpError';
  readonly code = 'KEYFLOW_SERVICES_UP_FAILED';
}

/**
 * Install what is missing, start every service that is not answering, wait until all serve
 * requests, and write `.env` at the repo root.
 *
 * @example
 * await servicesUp({ ...process.env, KEYFLOW_SERVICES_PROFILE: 'test' });
 */
export async function servicesUp(env: Env = process.env, names: readonly ServiceName[] = coreServices): Promise<UpResult> {
  const settings = loadSettings(env);
  const wanted = services.filter((s) => names.includes(s.name));
  const statuses = await servicesStatus(env, names);
  const down = wanted.filter((s) => !statuses.find((x) => x.name === s.name)?.up);

  const needs = await Promise.all(down.map((s) => s.missingPackages()));
  const packages = [...new Set(needs.flat())];
  // Before anything starts: a machine that cannot install what is missing stops here.
  await checkCanInstall(packages, env);
  // One apt run for everything; services that need nothing from it start right away.
  const installed = aptInstall(packages);
  installed.catch(() => {}); // observed below by each service that waits for it

  const outcomes = await Promise.allSettled(
    down.map(async (service, i) => {
      try {
        if ((needs[i] ?? []).length > 0) await installed;
        await service.start(settings);
        say(`${service.name} is up on ${format(service.endpoint(settings))}`);
      } catch (error) {
        if (error instanceof ServiceStartError) throw error;
        throw new ServiceStartError(service.name, error instanceof Error ? error.message : String(error), { cause: error });
      }
    }),
  );
  const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  if (failures.length > 0) {
    const lines = failures.map((f) => (f instanceof Error ? f.message : String(f)));
    throw new ServicesUpError(failures, `keyflow services failed to start:\n${lines.join('\n')}`);
  }

  // The connection settings are the core services'; an `up` of the others alone leaves .env as it is.
  if (wanted.some((s) => coreServices.includes(s.name))) {
    await writeEnvFile(join(settings.repoRoot, '.env'), connectionEnv(settings));
    // Generated once, then kept: a command waiting in Kafka across a restart still verifies.
    await ensureEnvSecret(join(settings.repoRoot, '.env'), 'KEYFLOW_EDGE_TOKEN');
  }
  return Object.fromEntries(wanted.map((s) => [s.name, down.includes(s) ? 'started' : 'already running']));
}

/**
 * Whether each service answers on its port.
 *
 * @example
 * const down = (await servicesStatus()).filter((s) => !s.up);
 */
export async function servicesStatus(env: Env = process.env, names: readonly ServiceName[] = allServices): Promise<readonly ServiceStatus[]> {
  const settings = loadSettings(env);
  return Promise.all(
    services.filter((s) => names.includes(s.name)).map(async (service): Promise<ServiceStatus> => {
      const endpoint = service.endpoint(settings);
      const r = await probeTcp(endpoint, 2000);
      return r.reachable ? { name: service.name, endpoint, up: true } : { name: service.name, endpoint, up: false, reason: r.reason };
    }),
  );
}

/**
 * Stop the services `up` started (found through their pid files); anything else answering
 * on the ports is left running.
 */
export async function servicesDown(env: Env = process.env): Promise<DownResult> {
  const settings = loadSettings(env);
  const results = await Promise.all(
    services.map(async (service) => {
      if (await service.stop(settings)) return [service.name, 'stopped'] as const;
      const r = await probeTcp(service.endpoint(settings), 1000);
      return [service.name, r.reachable ? 'left running (started elsewhere, not from this checkout)' : 'not running'] as const;
    }),
  );
  return Object.fromEntries(results) as DownResult;
}

/** One status line, e.g. `kafka     down  connection refused at 127.0.0.1:59092 — start it with: …`. */
export function formatStatus(status: ServiceStatus): string {
  const name = status.name.padEnd(11);
  return status.up
    ? `${name}up    ${format(status.endpoint)}`
    : `${name}down  ${status.reason} at ${format(status.endpoint)} — start it with: npm run services -- up`;
}

function format(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`;
}
