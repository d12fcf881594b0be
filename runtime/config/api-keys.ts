// KEYFLOW_API_KEYS, strictly. Rule: an entry is exactly `name:secret:scope+scope`, the secret
// is at least 16 characters and no placeholder, and anything else stops start-up — with a
// message that names the entry by its position and its name, never by its secret (a
// malformed entry is named by position only: its first field may be the secret).

/** The scopes an API key may carry (DESIGN.md: erasure, dead letters and lag need admin). */
export const API_KEY_SCOPES = ['ingest', 'read', 'admin'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** One configured API key: a name for logs and metrics, the secret, what it may do. */
export type ApiKeyConfig = { readonly name: string; readonly secret: string; readonly scopes: readonly ApiKeyScope[] };

/** The shortest secret start-up accepts. */
export const MIN_SECRET_LENGTH = 16;

const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
// Printable ASCII without the separators of the list (`,` `:`) and without spaces.
const SECRET_CHARS = /^[!-~]+$/;
// Words people leave in examples and templates; a secret that starts with one (or is one
// character repeated) was never generated.
const PLACEHOLDER = /^(?:change[-_.]?me|changeit|replace[-_.]?me|placeholder|example|your[-_.]|my[-_.]?secret|secret|password|passw0rd|todo|fixme|dummy|sample|test[-_.]?key|xxx)/i;

/**
 * Why `secret` is not acceptable as an API key's secret, or undefined when it is.
 *
 * @example
 * secretProblem('change-me-admin-key-01'); // 'the secret is a placeholder (…)'
 * secretProblem('q7Vb1xT0p9LmZr3KwS5d'); // undefined
 */
export function secretProblem(secret: string): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH) return `the secret has ${secret.length} characters, fewer than ${MIN_SECRET_LENGTH}`;
  if (!SECRET_CHARS.test(secret)) return 'the secret may hold printable ASCII only, without spaces, "," or ":"';
  if (PLACEHOLDER.test(secret) || /^(.)\1*$/.test(secret)) return 'the secret is a placeholder (generate one, e.g. `openssl rand -base64 24`)';
  return undefined;
}

/** The outcome of parsing KEYFLOW_API_KEYS: the keys, or the problems (none names a secret). */
export type ApiKeysParse = { readonly keys: readonly ApiKeyConfig[]; readonly problems: readonly string[] };

/**
 * Parse a KEYFLOW_API_KEYS value: comma-separated `name:secret:scope+scope` entries.
 *
 * @example
 * parseApiKeys('ci:q7Vb1xT0p9LmZr3KwS5d:ingest+read').keys[0]?.scopes; // ['ingest', 'read']
 * parseApiKeys('Xy7secret:ingest').problems; // ['entry 1: expected name:secret:scope+scope (2 fields, not 3)']
 */
export function parseApiKeys(value: string): ApiKeysParse {
  const keys: ApiKeyConfig[] = [];
  const problems: string[] = [];
  const entries = value.split(',').map((x) => x.trim()).filter((x) => x !== '');
  entries.forEach((entry, i) => {
    const parts = entry.split(':');
    const [name, secret, scopeList] = parts;
    if (parts.length !== 3 || name === undefined || secret === undefined || scopeList === undefined) {
      problems.push(`entry ${i + 1}: expected name:secret:scope+scope (${parts.length} field${parts.length === 1 ? '' : 's'}, not 3)`);
      return;
    }
    if (!KEY_NAME.test(name)) {
      // The first field may be a secret typed in the wrong place: position only.
      problems.push(`entry ${i + 1}: the name must match ${KEY_NAME.source}`);
      return;
    }
    const at = `entry ${i + 1} ("${name}")`;
    const weak = secretProblem(secret);
    if (weak !== undefined) problems.push(`${at}: ${weak}`);
    const scopes = scopeList.split('+').map((s) => s.trim());
    let scopesOk = scopes.length > 0;
    for (const s of scopes) {
      if (!(API_KEY_SCOPES as readonly string[]).includes(s)) {
        // Not echoed: a field in the wrong place may be a secret.
        problems.push(`${at}: unknown scope (known: ${API_KEY_SCOPES.join(', ')}, joined with +)`);
        scopesOk = false;
      }
    }
    if (scopesOk && new Set(scopes).size !== scopes.length) problems.push(`${at}: a scope appears twice`);
    if (weak === undefined && scopesOk) keys.push({ name, secret, scopes: scopes as ApiKeyScope[] });
  });
  const names = keys.map((k) => k.name);
  const dupName = names.find((n, i) => names.indexOf(n) !== i);
  if (dupName !== undefined) problems.push(`the key name "${dupName}" appears twice`);
  const secrets = keys.map((k) => k.secret);
  if (new Set(secrets).size !== secrets.length) problems.push('two entries share one secret');
  return { keys, problems };
}
