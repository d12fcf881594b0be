// The kustomize binary the k8s test renders the overlays with, built once from the Go module
// proxy and cached beside the other tools of compose/local (under KEYFLOW_SERVICES_DIR).
// Rule: one pinned version (v5.8.2 is the newest that builds with Go 1.26, GOTOOLCHAIN=local),
// built only when its binary is missing; a machine without Go gets one line saying so.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { which } from '../local/apt.ts';
import { run } from '../local/exec.ts';
import { exists } from '../local/files.ts';
import { say } from '../local/progress.ts';
import { loadSettings, type Settings } from '../local/settings.ts';

export const kustomizeVersion = 'v5.8.2';
const modulePath = 'sigs.k8s.io/kustomize/kustomize/v5';

/**
 * The path of a kustomize binary of `kustomizeVersion`, building it with `go install` first
 * when it is not cached (about 75 s with a cold module cache on 2 cores).
 *
 * @example
 * const kustomize = await ensureKustomize();
 * await run(kustomize, ['build', 'compose/k8s/overlays/all']);
 */
export async function ensureKustomize(settings: Settings = loadSettings()): Promise<string> {
  const dir = join(settings.servicesDir, 'kustomize', kustomizeVersion);
  const binary = join(dir, 'kustomize');
  if (await exists(binary)) return binary;
  if (!(await which('go'))) {
    throw new Error(`kustomize ${kustomizeVersion} is not cached in ${dir} and there is no go on PATH to build it (go install ${modulePath}@${kustomizeVersion})`);
  }
  await mkdir(dir, { recursive: true });
  say(`building kustomize ${kustomizeVersion} (go install)…`);
  await run('go', ['install', `${modulePath}@${kustomizeVersion}`], {
    env: { ...process.env, GOBIN: dir, GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' },
  });
  return binary;
}
