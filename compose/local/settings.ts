// Where the local services live and which ports they listen on, read once from the
// environment. Rule: everything `npm run services` writes goes under `servicesDir`
// (`.keyflow/services/` at the repo root unless KEYFLOW_SERVICES_DIR says otherwise), so one
// `rm -rf` resets the machine and nothing leaks into the tracked tree except `.env`.
import { resolve } from 'node:path';
import { z } from 'zod';

/** The repository root: two levels above this file (compose/local/). */
export const repoRoot: string = resolve(import.meta.dirname, '..', '..');

/** Services bind to the loopback interface only. */
export const host = '127.0.0.1';

/** The parsed, frozen settings of the local services. */
export type Settings = Readonly<{
  repoRoot: string;
  /** Absolute folder holding data, logs, pid files and the resolved Kafka classpath. */
  servicesDir: string;
  /** `test` trades durability for speed (fsync off); `dev` keeps Postgres' defaults. */
  profile: 'dev' | 'test';
  host: string;
  postgresPort: number;
  redisPort: number;
  kafkaPort: number;
  kafkaControllerPort: number;
  /** Prometheus' HTTP port (Jaeger's ports are its fixed all-in-one ones). */
  prometheusPort: number;
}>;

/** Raised when a KEYFLOW_* variable of the services script is invalid. */
export class ServicesSettingsError extends Error {
  override readonly name = 'ServicesSettingsError';
  readonly code = 'KEYFLOW_SERVICES_SETTINGS_INVALID';
}

const port = z.coerce.number().int().min(1).max(65535);
const schema = z.object({
  KEYFLOW_SERVICES_DIR: z.string().min(1).optional(),
  KEYFLOW_SERVICES_PROFILE: z.enum(['dev', 'test']).default('dev'),
  KEYFLOW_PG_PORT: port.default(55432),
  KEYFLOW_REDIS_PORT: port.default(56379),
  KEYFLOW_KAFKA_PORT: port.default(59092),
  KEYFLOW_KAFKA_CONTROLLER_PORT: port.default(59093),
  KEYFLOW_PROMETHEUS_PORT: port.default(59090),
});

/**
 * Read the services settings from the environment (empty values count as unset).
 *
 * @example
 * const s = loadSettings({ KEYFLOW_PG_PORT: '55433' });
 * s.postgresPort; // 55433
 */
export function loadSettings(env: Readonly<Record<string, string | undefined>> = process.env): Settings {
  const picked = Object.fromEntries(
    Object.keys(schema.shape).flatMap((name) => {
      const value = env[name];
      return value === undefined || value === '' ? [] : [[name, value]];
    }),
  );
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
    throw new ServicesSettingsError(`invalid services settings:\n  ${problems.join('\n  ')}`);
  }
  const v = parsed.data;
  return Object.freeze({
    repoRoot,
    servicesDir: resolve(repoRoot, v.KEYFLOW_SERVICES_DIR ?? '.keyflow/services'),
    profile: v.KEYFLOW_SERVICES_PROFILE,
    host,
    postgresPort: v.KEYFLOW_PG_PORT,
    redisPort: v.KEYFLOW_REDIS_PORT,
    kafkaPort: v.KEYFLOW_KAFKA_PORT,
    kafkaControllerPort: v.KEYFLOW_KAFKA_CONTROLLER_PORT,
    prometheusPort: v.KEYFLOW_PROMETHEUS_PORT,
  });
}

/** The connection variables the application reads, pointing at these services. */
export function connectionEnv(s: Settings): Readonly<Record<'DATABASE_URL' | 'REDIS_URL' | 'KAFKA_BROKERS', string>> {
  return {
    DATABASE_URL: `postgres://keyflow:keyflow@${s.host}:${s.postgresPort}/keyflow`,
    REDIS_URL: `redis://${s.host}:${s.redisPort}`,
    KAFKA_BROKERS: `${s.host}:${s.kafkaPort}`,
  };
}
