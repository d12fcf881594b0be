import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './settings.ts';

/** A port nothing listens on right now (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Run `npm run services -- <command>` as a child with a PATH of only `binDir`, on free ports. */
async function runServices(command: string, binDir: string, extra: Record<string, string> = {}) {
  const servicesDir = await mkdtemp(join(tmpdir(), 'keyflow-req-'));
  const env: Record<string, string> = {
    HOME: process.env['HOME'] ?? '/tmp',
    PATH: binDir,
    KEYFLOW_SERVICES_DIR: servicesDir,
    KEYFLOW_PG_PORT: String(await freePort()),
    KEYFLOW_REDIS_PORT: String(await freePort()),
    KEYFLOW_KAFKA_PORT: String(await freePort()),
    KEYFLOW_KAFKA_CONTROLLER_PORT: String(await freePort()),
    ...extra,
  };
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', 'compose/local/cli.ts', command], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr, servicesDir };
  } finally {
    await rm(servicesDir, { recursive: true, force: true });
  }
}

function assertOneClearLine(r: { code: number | null; stdout: string; stderr: string }, lacking: RegExp): void {
  assert.notEqual(r.code, 0, 'exit code');
  assert.equal(r.stdout, '', 'nothing started, nothing reported on stdout');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  const line = lines[0] ?? '';
  assert.doesNotMatch(line, /\bat .*\.ts:\d+|Error:/, 'no stack trace, no error class');
  assert.match(line, /java \(Java 17/);
  assert.match(line, lacking);
  for (const alternative of ['Debian/Ubuntu', 'docker compose -f compose/docker-compose.yml up', 'DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS']) {
    assert.ok(line.includes(alternative), `names ${alternative}: ${line}`);
  }
}

test('requirements - without apt-get and java, `up` and `ensure` stop with one line naming them and the alternatives', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'keyflow-path-'));
  try {
    assertOneClearLine(await runServices('up', empty), /without apt-get/);
    // `npm start` runs `ensure` first: with none of the connection variables set it is `up`.
    assertOneClearLine(await runServices('ensure', empty), /without apt-get/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('requirements - with apt-get but not root and no java, `up` names root and java', async () => {
  const bin = await mkdtemp(join(tmpdir(), 'keyflow-path-'));
  try {
    await symlink('/usr/bin/apt-get', join(bin, 'apt-get'));
    const r = await runServices('up', bin, { KEYFLOW_SERVICES_NON_ROOT: '1' });
    assertOneClearLine(r, /without root/);
    assert.doesNotMatch(r.stderr, /without apt-get/);
  } finally {
    await rm(bin, { recursive: true, force: true });
  }
});
