// Installing what a fresh Debian machine lacks (postgresql, redis-server, a JDK, Maven).
// Rule: one `apt-get update` and one `apt-get install` per `up`, covering every missing
// package at once — dpkg holds a lock, so concurrent installs would only queue or fail.
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { run } from './exec.ts';
import { say } from './progress.ts';

/** Raised when packages are missing and this process cannot install them. */
export class CannotInstallError extends Error {
  override readonly name = 'CannotInstallError';
  readonly code = 'KEYFLOW_CANNOT_INSTALL';
}

/**
 * Install Debian packages non-interactively (no-op for an empty list).
 *
 * @example
 * await aptInstall(['redis-server']);
 */
export async function aptInstall(packages: readonly string[]): Promise<void> {
  if (packages.length === 0) return;
  const list = packages.join(' ');
  if (process.getuid?.() !== 0) {
    throw new CannotInstallError(`missing ${list}; run as root so apt-get can install them, or install them yourself`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for a dpkg lock held by someone else instead of failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  say(`installing ${list} (apt)…`);
  await run('apt-get', [...lock, '-q', 'update'], { env });
  await run('apt-get', [...lock, '-q', '-y', '--no-install-recommends', 'install', ...packages], { env });
  say(`installed ${list}`);
}

/** The absolute path of `name` on PATH, or undefined. */
export async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
