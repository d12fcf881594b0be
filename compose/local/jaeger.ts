// Jaeger v2 for trace inspection, built from its Go module at a pinned version and cached.
// Rule: the binary is built once per services folder (in an empty Go module of ours, with the
// machine's own Go toolchain) and reused. It runs `jaeger/config.yaml`: Jaeger's all-in-one
// configuration with every listener on 127.0.0.1 (the embedded one binds the query API to
// all interfaces), in-memory storage, OTLP on 4317 (gRPC) and 4318 (HTTP), the query API on
// 16686. Nothing is persisted: a restart starts with no traces.
import { spawn } from 'node:child_process';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { which } from './apt.ts';
import { run } from './exec.ts';
import { exists, fileTail } from './files.ts';
import { isRunning, livePid, terminate, writePidFile } from './pids.ts';
import { say } from './progress.ts';
import { ServiceStartError, type LocalService } from './service.ts';
import type { Settings } from './settings.ts';

/** The approved release; the repository tags the v2 `jaeger` binary in its v1.x line. */
export const jaegerVersion = 'v1.75.0';
const jaegerPackage = 'github.com/jaegertracing/jaeger/cmd/jaeger';
const buildTimeoutMs = 30 * 60_000;
const configFile = join(import.meta.dirname, 'jaeger', 'config.yaml');
const readyTimeoutMs = 60_000;

/** Jaeger's fixed all-in-one ports. */
export const jaegerPorts = { otlpGrpc: 4317, otlpHttp: 4318, query: 16686 } as const;

export const jaegerService: LocalService = {
  name: 'jaeger',
  endpoint: (s) => ({ host: s.host, port: jaegerPorts.otlpHttp }),
  // Debian's Go is older than Jaeger needs; the toolchain must already be on PATH.
  missingPackages: async () => [],
  start,
  stop,
};

/** Where the query API answers, e.g. `http://127.0.0.1:16686`. */
export function jaegerQueryUrl(s: Pick<Settings, 'host'>): string {
  return `http://${s.host}:${jaegerPorts.query}`;
}

/** Where keyflow sends OTLP/HTTP traces (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
export function jaegerOtlpUrl(s: Pick<Settings, 'host'>): string {
  return `http://${s.host}:${jaegerPorts.otlpHttp}`;
}

function paths(s: Settings) {
  const dir = join(s.servicesDir, 'jaeger');
  return {
    dir,
    build: join(dir, 'build'),
    bin: join(dir, `jaeger-${jaegerVersion}`),
    log: join(dir, 'jaeger.log'),
    buildLog: join(dir, 'build.log'),
    pid: join(dir, 'jaeger.pid'),
  };
}

/**
 * The cached binary, built first if it is missing (minutes when the Go caches are cold).
 * `background`: build at the lowest CPU priority (`nice -n 19`), for a build that runs while
 * other work (the test suite) should keep the CPUs it needs.
 *
 * @example
 * const bin = await jaegerBinary(loadSettings());
 */
export async function jaegerBinary(s: Settings, o: { readonly background?: boolean } = {}): Promise<string> {
  const p = paths(s);
  if (await exists(p.bin)) return p.bin;
  // The official toolchain's usual home, for a shell whose PATH lacks it.
  const go = (await which('go')) ?? ((await exists('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined);
  if (go === undefined) {
    throw new ServiceStartError('jaeger', `no Go toolchain on PATH; Jaeger ${jaegerVersion} is built from its Go module (go 1.24 or newer)`);
  }
  await mkdir(p.build, { recursive: true });
  // An empty module of our own, so the pinned version is resolved with its own go.sum.
  await writeFile(join(p.build, 'go.mod'), 'module keyflow.local/jaeger\n\ngo 1.24\n');
  await rm(join(p.build, 'go.sum'), { force: true });
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
  const started = Date.now();
  const nice = o.background === true ? await which('nice') : undefined;
  say(`building jaeger ${jaegerVersion} with ${go}${nice === undefined ? '' : ' in the background (nice 19)'} (cold: 6 to 20 minutes on 2 cores, depending on load)…`);
  const goRun = (args: string[]) => run(nice ?? go, nice === undefined ? args : ['-n', '19', go, ...args], { cwd: p.build, env, timeoutMs: buildTimeoutMs });
  try {
    await goRun(['get', '-tool', `${jaegerPackage}@${jaegerVersion}`]);
    await goRun(['build', '-o', `${p.bin}.tmp`, jaegerPackage]);
  } catch (error) {
    await writeFile(p.buildLog, error instanceof Error ? error.message : String(error));
    throw new ServiceStartError('jaeger', `the build failed; see ${p.buildLog}`, { cause: error });
  }
  // The rename makes a half-written binary impossible to mistake for the cached one.
  await rename(`${p.bin}.tmp`, p.bin);
  say(`built jaeger in ${Math.round((Date.now() - started) / 1000)} s (cached at ${p.bin})`);
  return p.bin;
}

async function start(s: Settings): Promise<void> {
  const p = paths(s);
  await mkdir(p.dir, { recursive: true });
  const alive = await livePid(p.pid, p.bin);
  if (alive !== undefined) return waitReady(s, alive);
  const bin = await jaegerBinary(s);
  say(`starting jaeger (OTLP ${s.host}:${jaegerPorts.otlpGrpc}/${jaegerPorts.otlpHttp}, query ${s.host}:${jaegerPorts.query})…`);
  const log = await open(p.log, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(bin, ['--config', configFile], { cwd: p.dir, detached: true, stdio: ['ignore', log.fd, log.fd] });
    child.on('error', () => {}); // a failed spawn shows up as a missing pid just below
    child.unref();
    pid = child.pid;
  } finally {
    await log.close();
  }
  if (pid === undefined) throw new ServiceStartError('jaeger', `could not run ${bin}`);
  await writePidFile(p.pid, pid);
  await waitReady(s, pid);
}

async function stop(s: Settings): Promise<boolean> {
  const p = paths(s);
  const pid = await livePid(p.pid, p.bin);
  if (pid === undefined) return false;
  await terminate(pid, 10_000);
  await rm(p.pid, { force: true });
  return true;
}

/** Ready once the query API lists services (the receivers start before it). */
async function waitReady(s: Settings, pid: number): Promise<void> {
  const p = paths(s);
  const deadline = Date.now() + readyTimeoutMs;
  let last = 'not tried';
  while (Date.now() < deadline) {
    if (!(await isRunning(pid))) throw new ServiceStartError('jaeger', `jaeger (pid ${pid}) exited; ${p.log} ends with:\n${await fileTail(p.log)}`);
    try {
      const res = await fetch(`${jaegerQueryUrl(s)}/api/services`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(250);
  }
  throw new ServiceStartError('jaeger', `not ready within ${readyTimeoutMs / 1000} s (${last}); ${p.log} ends with:\n${await fileTail(p.log)}`);
}
