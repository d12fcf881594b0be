import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { parseApiKeys, secretProblem } from '../../runtime/config/index.ts';
import { ensureSecretFile, generateSecrets } from './secrets.ts';

test('secrets - every generated value passes the rules keyflow starts with, and each run makes new ones', () => {
  const a = generateSecrets();
  const keys = parseApiKeys(a['KEYFLOW_API_KEYS'] ?? '');
  assert.deepEqual(keys.problems, []);
  assert.deepEqual(keys.keys.map((k) => [k.name, k.scopes.join('+')]), [['admin', 'ingest+read+admin'], ['app', 'ingest'], ['dashboard', 'read']]);
  for (const name of ['KEYFLOW_INTERNAL_TOKEN', 'KEYFLOW_CURSOR_SECRET', 'KEYFLOW_EDGE_TOKEN']) assert.equal(secretProblem(a[name] ?? ''), undefined, name);
  assert.notEqual(generateSecrets()['KEYFLOW_API_KEYS'], a['KEYFLOW_API_KEYS']);
});

test('secrets - the file is written once, readable by its owner only; values already there are kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyflow-secrets-'));
  try {
    const file = join(dir, 'keyflow.env');
    await writeFile(file, '# mine\nKEYFLOW_API_KEYS=ops:kept-by-the-operator-01:admin\n');
    assert.deepEqual(await ensureSecretFile(file), ['KEYFLOW_INTERNAL_TOKEN', 'KEYFLOW_CURSOR_SECRET', 'KEYFLOW_EDGE_TOKEN']);
    const first = await readFile(file, 'utf8');
    assert.match(first, /^# mine\nKEYFLOW_API_KEYS=ops:kept-by-the-operator-01:admin\n/);
    assert.deepEqual(await ensureSecretFile(file), []);
    assert.equal(await readFile(file, 'utf8'), first, 'a second run changes nothing');
    assert.equal(Object.keys(parseEnv(first)).length, 4);
    const fresh = join(dir, 'fresh.env');
    await ensureSecretFile(fresh);
    assert.equal((await stat(fresh)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
