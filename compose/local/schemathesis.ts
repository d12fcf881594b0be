// Schemathesis, the OpenAPI fuzzer test/schemathesis.test.ts runs against a real keyflow,
// installed from PyPI into a venv of the project's own (under KEYFLOW_SERVICES_DIR, gitignored).
// Rule: one pinned version, installed only when its venv does not answer with that version; a
// machine without python3 (and its venv module) gets one line saying what to install.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from './apt.ts';
import { run } from './exec.ts';
import { exists } from './files.ts';
import { say } from './progress.ts';
import { loadSettings, repoRoot, type Settings } from './settings.ts';

export const schemathesisVersion = '4.32.5';

/** The configuration file of the run: the few rejections a static schema cannot express. */
export const schemathesisConfig = join(repoRoot, 'compose', 'local', 'schemathesis', 'schemathesis.toml');

/**
 * The path of a `schemathesis` executable of `schemathesisVersion`, installing it into its
 * own venv first when needed (about 40 s with a cold pip cache).
 *
 * @example
 * const st = await ensureSchemathesis();
 * await run(st, ['run', 'http://127.0.0.1:8080/openapi.json', '--checks', 'all']);
 */
export async function ensureSchemathesis(settings: Settings = loadSettings()): Promise<string> {
  const venv = join(settings.servicesDir, 'schemathesis', schemathesisVersion);
  const binary = join(venv, 'bin', 'schemathesis');
  if ((await exists(binary)) && (await run(binary, ['--version']).catch(() => '')).includes(`version ${schemathesisVersion}`)) return binary;
  if (!(await which('python3'))) {
    throw new Error(`schemathesis ${schemathesisVersion} is not installed in ${venv} and there is no python3 on PATH to install it (apt-get install python3 python3-venv)`);
  }
  await rm(venv, { recursive: true, force: true });
  await mkdir(venv, { recursive: true });
  say(`installing schemathesis ${schemathesisVersion} (pip, into ${venv})…`);
  await run('python3', ['-m', 'venv', venv]);
  await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${schemathesisVersion}`], { timeoutMs: 600_000 });
  return binary;
}
