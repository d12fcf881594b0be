// The `.env` file at the repo root that tells the application, the tests and the bench where
// the services listen. Rule: `up` owns only the keys it writes; any other line a developer
// added to `.env` survives every rewrite.
import { readFile, rename, writeFile } from 'node:fs/promises';

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
  await writeFile(partial, next);
  await rename(partial, file);
}
