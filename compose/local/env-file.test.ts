import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ensureEnvSecret, mergeEnv, writeEnvFile } from './env-file.ts';

const vars = { DATABASE_URL: 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow', REDIS_URL: 'redis://127.0.0.1:56379' };

test('env file - a new file gets a header and the connection variables', () => {
  const text = mergeEnv('', vars);
  assert.match(text, /^# connection settings written by `npm run services -- up`/);
  assert.deepEqual(text.split('\n').slice(1), [`DATABASE_URL=${vars.DATABASE_URL}`, `REDIS_URL=${vars.REDIS_URL}`, '']);
});

test('env file - lines a developer added survive, and only our keys change', () => {
  const before = '# mine\nPORT=9090\nREDIS_URL=redis://elsewhere:1\nexport KEYFLOW_LOG_LEVEL=debug\n';
  assert.equal(
    mergeEnv(before, vars),
    `# mine\nPORT=9090\nREDIS_URL=${vars.REDIS_URL}\nexport KEYFLOW_LOG_LEVEL=debug\nDATABASE_URL=${vars.DATABASE_URL}\n`,
  );
});

test('env file - what is written is what process.loadEnvFile reads back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyflow-env-'));
  try {
    const file = join(dir, '.env');
    await writeFile(file, 'PORT=9090\n');
    await writeEnvFile(file, vars);
    await writeEnvFile(file, vars);
    assert.deepEqual({ ...parseEnv(await readFile(file, 'utf8')) }, { PORT: '9090', ...vars });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('env file - the edge secret is generated once, kept by every later run and by up, and readable by its owner only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyflow-env-'));
  try {
    const file = join(dir, '.env');
    await writeFile(file, '# mine\nPORT=9090\n');
    assert.equal(await ensureEnvSecret(file, 'KEYFLOW_EDGE_TOKEN'), true);
    const first = parseEnv(await readFile(file, 'utf8'))['KEYFLOW_EDGE_TOKEN'];
    assert.ok(first !== undefined && first.length >= 32, 'a secret that passes the configuration (16+ characters)');
    assert.equal(await ensureEnvSecret(file, 'KEYFLOW_EDGE_TOKEN'), false, 'a second start keeps it');
    await writeEnvFile(file, vars); // `up` rewriting the connection settings
    const text = await readFile(file, 'utf8');
    assert.equal(parseEnv(text)['KEYFLOW_EDGE_TOKEN'], first, 'the same secret after up and restarts');
    assert.equal(parseEnv(text)['PORT'], '9090');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const other = join(dir, 'other.env');
    await ensureEnvSecret(other, 'KEYFLOW_EDGE_TOKEN');
    assert.notEqual(parseEnv(await readFile(other, 'utf8'))['KEYFLOW_EDGE_TOKEN'], first, 'random per checkout');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
