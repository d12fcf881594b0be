// Faults on the real local services, for test/faults-*.test.ts: stop one service, start it
// again, and always put everything back. Rule: a fault test stops only a service that `npm
// run services` started from this checkout (its pid file says so) — it never touches one
// someone else runs — and `restoreServices()`, called in after(), starts whatever is down and
// waits until it answers, so a failing fault test never leaves the next test file without
// its services.
import { readFile } from 'node:fs/promises';
import { loadSettings, waitReachable } from '../../compose/local/index.ts';
// compose/local's door exports up/down/status over all three services; stopping and starting
// one of them is what only a fault test needs, so it reaches for the services themselves.
import { kafkaService } from '../../compose/local/kafka.ts';
import { postgresService } from '../../compose/local/postgres.ts';
import { redisService } from '../../compose/local/redis.ts';
import { testEnv } from './services.ts';

const services = { postgres: postgresService, redis: redisService, kafka: kafkaService } as const;
/** The services a fault test may stop: the three keyflow depends on. */
type FaultService = keyof typeof services;

/** Raised when the service answering on the port was not started from this checkout. */
export class ServiceNotOursError extends Error {
  override readonly name = 'ServiceNotOursError';
  constructor(name: FaultService) {
    super(`the ${name} answering on its port was not started by \`npm run services -- up\` from this checkout, so a fault test may not stop it`);
  }
}

/**
 * Stop one local service (Postgres: `pg_ctl stop -m fast`; Redis and Kafka: SIGTERM) and
 * resolve once its port refuses connections.
 */
export async function stopService(name: FaultService): Promise<void> {
  const settings = loadSettings(testEnv());
  const service = services[name];
  if (!(await service.stop(settings))) throw new ServiceNotOursError(name);
  const deadline = Date.now() + 30_000;
  while ((await waitReachable(service.endpoint(settings), 200)).reachable) {
    if (Date.now() > deadline) throw new Error(`${name} still answers 30 s after it was stopped`);
  }
}

/** Start one local service and resolve once it serves requests. */
export async function startService(name: FaultService): Promise<void> {
  await services[name].start(loadSettings(testEnv()));
}

/** Start every service that does not answer; for after(), so it runs even when a test failed. */
export async function restoreServices(): Promise<void> {
  const settings = loadSettings(testEnv());
  for (const [name, service] of Object.entries(services)) {
    if ((await waitReachable(service.endpoint(settings), 1_000)).reachable) continue;
    try {
      await service.start(settings);
    } catch (e) {
      throw new Error(`could not restore ${name} after a fault test: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** The resident set size of a process, in bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}
