// The secrets of a compose or Kubernetes deployment, generated on the machine that deploys it
// and never committed. Rule: each secret is 32 random bytes (base64url), written once into a
// gitignored env file — a value already there is kept, so re-running never rotates a key a
// client holds — and every value passes the rules keyflow starts with (runtime/config).
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { repoRoot } from '../local/index.ts';

const HEADER = '# keyflow deployment secrets, written by `npm run secrets` (values already here are kept); never commit this file';

/** Where `npm run secrets` writes: docker-compose.yml's env_file and the base's secretGenerator. */
export const secretFiles = {
  compose: join(repoRoot, 'compose', 'keyflow.secrets.env'),
  k8s: join(repoRoot, 'compose', 'k8s', 'base', 'keyflow.secrets.env'),
} as const;

const secret = (): string => randomBytes(32).toString('base64url');

/**
 * Fresh values for every secret a deployment needs: three API keys (admin, an ingest-only key
 * for producers, a read-only key for dashboards), and the tokens every process shares.
 *
 * @example
 * generateSecrets().KEYFLOW_API_KEYS; // 'admin:…:ingest+read+admin,app:…:ingest,dashboard:…:read'
 */
export function generateSecrets(): Record<string, string> {
  return {
    KEYFLOW_API_KEYS: `admin:${secret()}:ingest+read+admin,app:${secret()}:ingest,dashboard:${secret()}:read`,
    KEYFLOW_INTERNAL_TOKEN: secret(),
    KEYFLOW_CURSOR_SECRET: secret(),
    KEYFLOW_EDGE_TOKEN: secret(),
  };
}

/**
 * Write the missing secrets into `file` (created if absent), keeping every value already there.
 * `extra` adds settings only when missing too (e.g. the k8s Secret's DATABASE_URL).
 */
export async function ensureSecretFile(file: string, extra: Readonly<Record<string, string>> = {}): Promise<readonly string[]> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const present = parseEnv(text);
  const wanted: Record<string, string> = { ...extra, ...generateSecrets() };
  const missing = Object.entries(wanted).filter(([k]) => !present[k]);
  if (missing.length === 0) return [];
  const lines = text === '' ? [HEADER] : [text.replace(/\n$/, '')];
  for (const [k, v] of missing) lines.push(`${k}=${v}`);
  // Readable by its owner only, and replaced whole: a reader never sees half a file.
  const partial = `${file}.partial`;
  await writeFile(partial, `${lines.join('\n')}\n`, { mode: 0o600 });
  await rename(partial, file);
  return missing.map(([k]) => k);
}
