// Debian's Chromium, for the browser test of the web console (test/console.test.ts).
// Rule: the browser is the distribution's package at /usr/bin/chromium, installed with apt
// like redis-server; nothing downloads a browser build of its own (no `playwright install`).
// When it is already there, ensuring it costs one file check.
import { access, constants } from 'node:fs/promises';
import { aptInstall } from './apt.ts';

/** Where Debian's `chromium` package puts the browser. */
export const chromiumPath = '/usr/bin/chromium';

/**
 * Install Debian's `chromium` when /usr/bin/chromium is missing; resolve its path.
 *
 * @example
 * const executablePath = await ensureChromium(); // '/usr/bin/chromium'
 */
export async function ensureChromium(): Promise<string> {
  if (!(await executable(chromiumPath))) await aptInstall(['chromium']);
  if (!(await executable(chromiumPath))) throw new Error(`apt installed chromium, yet ${chromiumPath} is not executable`);
  return chromiumPath;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
