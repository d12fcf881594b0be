// The `.env` file at the repo root that tells the application, the tests and the bench where
// the services listen. Rule: `up` owns only the keys it writes; any other line a developer
// added to `.env` survives every rewrite. The deployment's secret (KEYFLOW_EDGE_TOKEN) is
// generated into it once and then kept: it must survive restarts (runtime/kafka/trust.ts).
import { randomBytes } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';

const header = '# connection settings written by `npm run services -- up`; real environment variables win';

/**
 * Merge `vars` into the text of an env file: replace those keys' lines, keep every other
 * line, append keys that were missing.
 *
 * @example
 * mergeEnv('A=1\nREDIS_URL=old\n', { REDIS_URL: 'redis://127.0.0.1:56379' });
 * // 'A=1\nREDIS_URL=redis://127.0.0.1:56379\n'
 */
export function mergeEnv(text: string, vars: Readonly<Record<string, string>>): string {
  const pending = new Map(Object.entries(vars));
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const out = lines.map((line) => {
    const key = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    if (key === undefined || !pending.has(key)) return line;
    const value = pending.get(key) ?? '';
    pending.delete(key);
    return `${key}=${value}`;
  });
  if (pending.size > 0 && out.length === 0) out.push(header);
  for (const [key, value] of pending) out.push(`${key}=${value}`);
  return `${out.join('\n')}\n`;
}

/** Write (or update) an env file with `vars`, atomically. */
export async function writeEnvFile(file: string, vars: Readonly<Record<string, string>>): Promise<void> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const next = mergeEnv(text, vars);
  if (next === text) return;
  const partial = `${file}.partial`;
  // It may hold the deployment's secret (ensureEnvSecret): readable by its owner only.
  await writeFile(partial, next, { mode: 0o600 });
  await rename(partial, file);
}

/**
 * Give an env file a generated secret under `name` unless it holds one already, so that the
 * secret is made once and every later start (and every process started from this checkout)
 * uses the same one. The file is written readable by its owner only. Answers whether it
 * generated one; the value is never printed.
 *
 * @example
 * await ensureEnvSecret(join(repoRoot, '.env'), 'KEYFLOW_EDGE_TOKEN'); // true the first time, then false
 */
export async function ensureEnvSecret(file: string, name: string): Promise<boolean> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const has = text.split('\n').some((line) => new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=\\s*\\S`).test(line));
  if (has) return false;
  const partial = `${file}.partial`;
  await writeFile(partial, mergeEnv(text, { [name]: randomBytes(24).toString('base64url') }), { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, file);
  return true;
}
