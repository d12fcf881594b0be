// No committed value passes the key rules (DESIGN.md, Security): whatever a compose file, a
// Kubernetes manifest, the README, the docs or an env example shows as an API key or a shared
// token is refused by keyflow at start-up, so no copied example ever opens a deployment. The
// real values live in files `npm run secrets` generates and git ignores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../compose/local/index.ts';
import { parseApiKeys, secretProblem } from '../runtime/config/index.ts';

/** The committed files where a deployment's settings are written down. */
function committedSettingsFiles(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: repoRoot, encoding: 'utf8' }).split('\n');
  return files.filter((f) => /^compose\/.*\.(ya?ml|env|toml)$|^README\.md$|^docs\/.*\.md$|(^|\/)\.env(\.[\w-]+)?$|\.env\.example$/.test(f));
}

const SCOPES = '(?:ingest|read|admin)(?:\\+(?:ingest|read|admin))*';
// `name:secret:scopes` anywhere (quoted or not), and the values given to the shared tokens.
const KEY_ENTRY = new RegExp(`(?<![\\w.-])[A-Za-z0-9_.-]{1,64}:[^\\s,:'"\`]+:${SCOPES}(?![\\w+])`, 'g');
const TOKEN = /\b(KEYFLOW_(?:INTERNAL_TOKEN|EDGE_TOKEN|EDGE_TOKEN_PREVIOUS|CURSOR_SECRET))\s*[=:]\s*['"]?([^\s'"]+)/g;

test('committed - no API key or token written in compose, k8s, the README, docs or env examples passes the rules keyflow starts with', () => {
  const files = committedSettingsFiles();
  assert.ok(files.includes('README.md') && files.includes('compose/docker-compose.yml'), files.join(' '));
  const seen: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const m of text.matchAll(KEY_ENTRY)) {
      seen.push(`${file}: ${m[0]}`);
      assert.deepEqual(parseApiKeys(m[0]).keys, [], `${file}: the committed key entry ${m[0]} would be accepted`);
    }
    for (const m of text.matchAll(/KEYFLOW_API_KEYS\s*[=:]\s*['"]?([^\s'"]+)/g)) {
      seen.push(`${file}: ${m[0]}`);
      assert.deepEqual(parseApiKeys(m[1] ?? '').keys, [], `${file}: the committed KEYFLOW_API_KEYS ${m[1]} would be accepted`);
    }
    for (const m of text.matchAll(TOKEN)) {
      seen.push(`${file}: ${m[0]}`);
      assert.notEqual(secretProblem(m[2] ?? ''), undefined, `${file}: the committed ${m[1]} would pass as a secret`);
    }
  }
  // The scan sees the README's example, so it would see a real key written there.
  assert.ok(seen.some((s) => s.startsWith('README.md: ')), `examples scanned: ${seen.join('; ')}`);
});

test('committed - the scan recognizes a real key and a real token (so the test above can fail)', () => {
  const entry = 'ops:q7Vb1xT0p9LmZr3KwS5d:ingest+read';
  assert.deepEqual([...`KEYFLOW_API_KEYS=${entry}`.matchAll(KEY_ENTRY)].map((m) => m[0]), [entry]);
  assert.equal(parseApiKeys(entry).keys.length, 1);
  const token = [...'  KEYFLOW_INTERNAL_TOKEN: Hc4nR8yWq2Lz6Tp0Xv3B'.matchAll(TOKEN)][0];
  assert.equal(token?.[2], 'Hc4nR8yWq2Lz6Tp0Xv3B');
  assert.equal(secretProblem(token?.[2] ?? ''), undefined);
});
