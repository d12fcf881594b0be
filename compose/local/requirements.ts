// What `npm run services -- up` (and so `npm start`) needs from the machine before it starts
// anything. Rule: when a package is missing and this process cannot install it (no apt-get,
// not root), `up` stops at once with ONE line naming what is missing and the alternatives —
// no service is started half-way and no stack trace is printed.
import { which } from './apt.ts';

/** Raised when the machine lacks what `up` needs and cannot install it. */
export class RequirementsError extends Error {
  override readonly name = 'RequirementsError';
  readonly code = 'KEYFLOW_REQUIREMENTS_MISSING';
}

export type Env = Readonly<Record<string, string | undefined>>;

/** The ways to run keyflow when this machine cannot install the services itself. */
export const alternatives =
  'run as root on Debian/Ubuntu (apt-get installs them), or install them yourself (Java 17 for Kafka), ' +
  'or use Docker: docker compose -f compose/docker-compose.yml up, ' +
  'or point keyflow at your own services: set DATABASE_URL, REDIS_URL and KAFKA_BROKERS';

/**
 * Throw a one-line RequirementsError when `packages` cannot be installed here.
 * `KEYFLOW_SERVICES_NON_ROOT=1` makes a root process behave as a non-root one (for tests).
 *
 * @example
 * await checkCanInstall(['openjdk-17-jre-headless']);
 */
export async function checkCanInstall(packages: readonly string[], env: Env = process.env): Promise<void> {
  if (packages.length === 0) return;
  const lacking: string[] = [];
  if (!(await which('apt-get'))) lacking.push('apt-get (not Debian/Ubuntu)');
  const root = process.getuid?.() === 0 && env['KEYFLOW_SERVICES_NON_ROOT'] !== '1';
  if (!root) lacking.push('root (apt-get needs it)');
  if (lacking.length === 0) return;
  throw new RequirementsError(
    `keyflow services: missing ${packages.map(describe).join(', ')} and cannot install them without ${lacking.join(' and ')}; ${alternatives}`,
  );
}

function describe(pkg: string): string {
  if (pkg.startsWith('openjdk-17')) return `java (Java 17, package ${pkg})`;
  return pkg;
}
