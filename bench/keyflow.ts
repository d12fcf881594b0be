// The system under test: a real `keyflow all` child process on the local services, isolated
// like the integration tests (fresh database, topic, consumer group and Redis prefix, PORT=0),
// with its memory and CPU sampled from /proc from the moment it is ready.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { coreServices, repoRoot, servicesStatus, servicesUp } from '../compose/local/index.ts';
import { isolate, type Isolated, type KeyflowProcess } from '../test/support/keyflow.ts';
import { ProcSampler } from './proc.ts';
import { mainHeapArgs } from '../runtime/config/index.ts';

export type BenchKeyflow = {
  readonly url: string;
  readonly pid: number;
  readonly iso: Isolated;
  readonly process: KeyflowProcess;
  readonly sampler: ProcSampler;
  /** Milliseconds from spawn to the "keyflow ready" line. */
  readonly startMs: number;
};

/** Start the services when they are not answering (as `npm start` does). */
export async function ensureServices(say: (line: string) => void): Promise<void> {
  const down = (await servicesStatus(process.env, coreServices)).filter((s) => !s.up);
  if (down.length > 0) {
    say(`starting services: ${down.map((s) => s.name).join(', ')}`);
    await servicesUp(process.env);
  }
}

export type StartOptions = {
  /** KEYFLOW_* (and other) variables for the keyflow process, over the bench defaults. */
  readonly env: Readonly<Record<string, string>>;
  /** Write V8 CPU profiles of every keyflow thread here. */
  readonly cpuProfDir?: string;
  /** Run keyflow compiled to JavaScript in this directory (as the Dockerfile does) instead of through tsx. */
  readonly buildDir?: string;
};

/**
 * Compile keyflow as `npm run build` does (tsconfig.build.json, migrations copied), but into
 * `dir`, so that the checkout's own dist/ is left alone.
 */
export function buildKeyflow(dir: string): void {
  const out = resolve(dir);
  execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  cpSync(join(repoRoot, 'db', 'migrations'), join(out, 'db', 'migrations'), { recursive: true });
  // Node resolves packages from the importing file's folders up: a build outside the checkout
  // (`--out /tmp/x`) finds the checkout's node_modules through a link beside it.
  const modules = join(out, 'node_modules');
  if (!existsSync(modules)) symlinkSync(join(repoRoot, 'node_modules'), modules, 'dir');
}

export async function startBenchKeyflow(o: StartOptions): Promise<BenchKeyflow> {
  // Info level: startKeyflow waits for the "keyflow ready" line, which is logged at info.
  const iso = await isolate({ KEYFLOW_LOG_LEVEL: 'info', ...o.env });
  // --cpu-prof is refused in NODE_OPTIONS; as an execArgv it also reaches the worker threads.
  const execArgv: string[] = [];
  if (o.cpuProfDir !== undefined) {
    mkdirSync(o.cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${resolve(o.cpuProfDir)}`);
  }
  const t0 = Date.now();
  let kf: KeyflowProcess;
  try {
    const entry = o.buildDir === undefined ? ['--import', 'tsx', 'runtime/cli/main.ts'] : [join(resolve(o.buildDir), 'runtime', 'cli', 'main.js')];
    kf = await spawnKeyflow(iso.env, [...mainHeapArgs(iso.env), ...execArgv, ...entry]);
  } catch (e) {
    await iso.cleanup();
    throw e;
  }
  const pid = kf.child.pid;
  if (pid === undefined) throw new Error('keyflow has no pid');
  return { url: kf.url, pid, iso, process: kf, sampler: new ProcSampler(pid, 200), startMs: Date.now() - t0 };
}

/**
 * `node <args> all` (args: node flags and the entry), resolved once it logs "keyflow ready" —
 * test/support/keyflow.ts's startKeyflow, with room for node flags and a compiled entry.
 */
function spawnKeyflow(env: Record<string, string>, args: readonly string[], timeoutMs = 90_000): Promise<KeyflowProcess> {
  const child = spawn(process.execPath, [...args, 'all'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return new Promise<KeyflowProcess>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyflow was not ready within ${timeoutMs} ms; its log ends:\n${log.slice(-3000)}`));
    }, timeoutMs);
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    let ready = false;
    child.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-200_000);
      const m = ready ? null : /"msg":"keyflow ready".*?"url":"(http:[^"]+)"/.exec(log);
      if (m?.[1] === undefined) return;
      ready = true;
      clearTimeout(timer);
      const url = m[1];
      resolveReady({
        url,
        child,
        logs: () => log,
        stop: async (signal = 'SIGTERM') => {
          const started = Date.now();
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          const r = await exited;
          return { ...r, ms: Date.now() - started };
        },
      });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`keyflow exited (code ${code}, signal ${signal}) before it was ready; its log ends:\n${log.slice(-3000)}`));
    });
  });
}
