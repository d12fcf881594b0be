// `npm test`: make sure the real services are there, then run every *.test.ts with node:test.
// Rule: a run against missing services stops before any test starts, with one line per
// missing service and the command that starts it; tests never skip for want of a service.
// Jaeger and Prometheus are started (Jaeger built the first time) only when a selected file
// needs them, so `npm test -- db/` never waits for a Go build. When Jaeger must be built (a
// cold machine: minutes), it builds in the background at the lowest CPU priority while the
// other files run, and the files that need it run last, once it is there. Schemathesis's venv
// is installed the same way (pip, in the background) and its file runs after the others.
//
//   npm test                      every test file
//   npm test -- db/ http/         only files whose path contains db/ or http/
//   npm test -- --test-name-pattern=flush   other --flags go to node (use the --flag=value form)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { coreServices, ensureChromium, ensureProducerTools, jaegerBinary, loadSettings, observabilityServices, repoRoot, servicesUp, type ServiceName } from '../compose/local/index.ts';
import { ensureSchemathesis } from '../compose/local/schemathesis.ts';
import { requireServices, ServiceUnreachableError } from './support/services.ts';

const roots = ['actors', 'runtime', 'http', 'db', 'otel', 'bench', 'compose', 'test'];
const skipped = new Set(['node_modules', 'dist', '.keyflow']);
const connectionVariables = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'];
/** Test files that inspect keyflow through the real Jaeger and Prometheus. */
const observabilityTests = ['test/tracing.test.ts', 'test/dashboard.test.ts'];
/** Test files that drive Debian's chromium. */
const browserTests = new Set(['test/console.test.ts', 'test/segment-browser.test.ts']);
/** Test files that produce with kcat and a compiled Java producer. */
const producerTests = new Set(['test/producers.test.ts']);
/**
 * Test files that run Schemathesis: on a machine without its venv, pip installs it (25–40 s)
 * in the background while the other files run, and these files run after them.
 */
const schemathesisTests = new Set(['test/schemathesis.test.ts']);

async function main(args: readonly string[]): Promise<number> {
  const filters = args.filter((a) => !a.startsWith('-'));
  const nodeFlags = args.filter((a) => a.startsWith('-'));

  const files = (await findTestFiles()).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  if (files.length === 0) {
    console.error(`keyflow test: no test file path contains ${filters.map((f) => JSON.stringify(f)).join(' or ')}`);
    return 1;
  }
  const observed = files.filter((f) => observabilityTests.includes(f));
  const fuzzed = files.filter((f) => schemathesisTests.has(f));
  const others = files.filter((f) => !observabilityTests.includes(f) && !schemathesisTests.has(f));
  // Connection settings given by the real environment mean someone else runs the core services.
  const core: readonly ServiceName[] = connectionVariables.some((name) => !process.env[name]) ? coreServices : [];
  if (core.length > 0 || observed.length > 0) process.env['KEYFLOW_SERVICES_PROFILE'] = 'test';
  // Jaeger's first build overlaps the other files; its failure is reported when it is needed.
  const prebuilt = observed.length > 0 && others.length > 0
    ? jaegerBinary(loadSettings(process.env), { background: true }).then(() => undefined, (error: unknown) => error)
    : Promise.resolve(undefined);
  const up = async (wanted: readonly ServiceName[]): Promise<boolean> => {
    if (wanted.length === 0) return true;
    try {
      await servicesUp(process.env, wanted);
      return true;
    } catch (error) {
      console.error(error instanceof Error ? error.message : String(error));
      return false;
    }
  };
  if (!(await up(others.length > 0 ? core : [...core, ...observabilityServices]))) return 1;
  const envFile = join(repoRoot, '.env');
  // loadEnvFile never overrides a variable the real environment already has.
  if (existsSync(envFile)) process.loadEnvFile(envFile);

  try {
    await requireServices({ env: process.env });
  } catch (error) {
    if (!(error instanceof ServiceUnreachableError)) throw error;
    console.error(error.message);
    return 1;
  }

  // The browser test drives Debian's chromium: install it before any test runs (one file
  // check when it is there already), so its apt run never eats a test's deadline.
  if (files.some((f) => browserTests.has(f))) {
    try {
      await ensureChromium();
    } catch (error) {
      console.error(`keyflow test: chromium is needed by ${[...browserTests].join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  }
  // Likewise kcat and a JDK for the real producers.
  if (files.some((f) => producerTests.has(f))) {
    try {
      await ensureProducerTools();
    } catch (error) {
      console.error(`keyflow test: kcat and javac are needed by ${[...producerTests].join(', ')}: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
  }
  const installed = fuzzed.length > 0 ? ensureSchemathesis().then(() => undefined, (error: unknown) => error) : Promise.resolve(undefined);
  let code = others.length > 0 ? await runFiles(others, nodeFlags) : 0;
  if (fuzzed.length > 0) {
    const failed = await installed;
    if (failed !== undefined) {
      console.error(`keyflow test: schemathesis is needed by ${fuzzed.join(', ')}: ${failed instanceof Error ? failed.message : String(failed)}`);
      return 1;
    }
    code = Math.max(code, await runFiles(fuzzed, nodeFlags));
  }
  if (observed.length > 0 && others.length > 0) {
    const failed = await prebuilt;
    if (failed !== undefined) console.error(`keyflow test: building jaeger failed: ${failed instanceof Error ? failed.message : String(failed)}`);
    if (failed !== undefined || !(await up(observabilityServices))) return 1;
  }
  if (observed.length > 0) code = Math.max(code, await runFiles(observed, nodeFlags));
  return code;
}

/** One node:test run over `files`; its exit code. */
function runFiles(files: readonly string[], nodeFlags: readonly string[]): Promise<number> {
  // Node 20 does not expand globs; one file at a time, because integration tests share the
  // services (our flags come first so a --test-concurrency given on the command line wins).
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...nodeFlags, ...files],
    { cwd: repoRoot, stdio: 'inherit', env: process.env },
  );
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Every *.test.ts under the source folders, as sorted repo-relative paths with '/'. */
async function findTestFiles(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !skipped.has(entry.name)) await walk(path);
      else if (entry.isFile() && entry.name.endsWith('.test.ts')) found.push(relative(repoRoot, path).split(sep).join('/'));
    }
  };
  for (const root of roots) await walk(join(repoRoot, root));
  return found.sort();
}

process.exitCode = await main(process.argv.slice(2));
