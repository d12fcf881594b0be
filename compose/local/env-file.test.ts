import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { mergeEnv, writeEnvFile } from './env-file.ts';

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
