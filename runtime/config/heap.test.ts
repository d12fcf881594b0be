import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../compose/local/index.ts';
import { MAIN_HEAP_MB_DEFAULT, mainHeapArgs, mainHeapCheck } from './heap.ts';
import { loadConfig } from './config.ts';

const MiB = 2 ** 20;

test('heap - the check accepts the configured old generation plus the young one, and nothing far from it', () => {
  assert.deepEqual(mainHeapCheck(256, 304 * MiB), { limitMb: 304, applied: true });
  assert.deepEqual(mainHeapCheck(256, 4144 * MiB), { limitMb: 4144, applied: false }); // node's default on this machine
  assert.equal(mainHeapCheck(256, 200 * MiB).applied, false);
  assert.equal(mainHeapCheck(1024, 1072 * MiB).applied, true);
});

test('heap - the flag follows KEYFLOW_MAIN_HEAP_MB, and its default is the configuration default', () => {
  assert.deepEqual(mainHeapArgs({ KEYFLOW_MAIN_HEAP_MB: '192' }), ['--max-old-space-size=192']);
  assert.deepEqual(mainHeapArgs({}), [`--max-old-space-size=${MAIN_HEAP_MB_DEFAULT}`]);
  assert.equal(loadConfig({}).mainHeapMb, MAIN_HEAP_MB_DEFAULT);
});

// Each launcher, run for real with a probe in place of the CLI: the heap the probe's thread
// got, and the arguments it was given.
const probeDir = mkdtempSync(join(tmpdir(), 'keyflow-heap-'));
const probe = join(probeDir, 'probe.mjs');
writeFileSync(probe, "import { getHeapStatistics } from 'node:v8';\nprocess.stdout.write(JSON.stringify({ heapMb: getHeapStatistics().heap_size_limit / 2 ** 20, argv: process.argv.slice(2) }));\n");

function launch(argv: readonly string[], env: Record<string, string>): { heapMb: number; argv: string[] } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { heapMb: number; argv: string[] };
}

for (const script of ['start', 'keyflow']) {
  test(`heap - npm run ${script} gives the main thread KEYFLOW_MAIN_HEAP_MB`, () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const line = scripts[script]!.split(' && ').at(-1)!;
    assert.match(line, /runtime\/cli\/main\.ts/);
    const command = `${line.replace('--import tsx runtime/cli/main.ts', probe)} "$@"`;
    assert.ok(mainHeapCheck(200, launch(['/bin/sh', '-c', command, 'sh', 'all'], { KEYFLOW_MAIN_HEAP_MB: '200' }).heapMb * MiB).applied);
    assert.ok(mainHeapCheck(MAIN_HEAP_MB_DEFAULT, launch(['/bin/sh', '-c', command, 'sh'], {}).heapMb * MiB).applied);
  });
}

test('heap - the image entrypoint gives the main thread KEYFLOW_MAIN_HEAP_MB and passes the command on', () => {
  const dockerfile = readFileSync(join(repoRoot, 'compose', 'Dockerfile'), 'utf8');
  const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
  const argv = entrypoint.map((a) => a.replace('dist/runtime/cli/main.js', probe));
  const got = launch([...argv, 'worker'], { KEYFLOW_MAIN_HEAP_MB: '160' });
  assert.ok(mainHeapCheck(160, got.heapMb * MiB).applied, `heap ${got.heapMb} MiB`);
  assert.deepEqual(got.argv, ['worker']);
  assert.ok(mainHeapCheck(MAIN_HEAP_MB_DEFAULT, launch([...argv, 'all'], {}).heapMb * MiB).applied);
});
