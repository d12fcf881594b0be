// `npm run bench -- [--events N] [--rate R|max] [--via kafka|http] [--scenario NAME] [--json FILE]`
// `npm run bench -- --scenario queries [--events N] [--users N] [--days D]` (bench/queries/main.ts)
// `npm run bench -- --scenario workers [--events N] [--processes 1,2,3]` (bench/workers.ts)
//
// Drives the real keyflow with realistic events and measures it against three baselines on
// the same data in the same run (see bench/RESULTS.md for figures, `--help` for every flag).
// Rule: the exit code is 0 only when every scenario ran and passed its exactness check; a
// failed check is printed as one block starting with "EXACTNESS CHECK FAILED".
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../compose/local/index.ts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './args.ts';
import { ExactnessError } from './exactness.ts';
import { buildKeyflow } from './keyflow.ts';
import { Progress } from './progress.ts';
import { writeReport } from './report/markdown.ts';
import { resultTable } from './report/table.ts';
import type { BenchResult } from './result.ts';
import { runScenario } from './run.ts';

const OWN_OPTIONS = ['queries', 'workers'] as const;

async function main(argv: readonly string[]): Promise<number> {
  // Scenarios with options of their own: the query bench (loads its own data, drives only
  // the read routes) and the scale-out bench (1, 2, 3… worker processes on the same events).
  const own = OWN_OPTIONS.find((name) => argv.some((a, i) => a === `--scenario=${name}` || (a === '--scenario' && argv[i + 1] === name)));
  if (own !== undefined) {
    const envFile = join(repoRoot, '.env');
    if (existsSync(envFile)) process.loadEnvFile(envFile);
    process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';
    try {
      return await (own === 'queries' ? (await import('./queries/main.ts')).runQueryBench(argv) : (await import('./workers.ts')).runWorkersBench(argv));
    } catch (e) {
      // A bad flag is one line naming it, not a stack trace.
      const code = (e as { code?: unknown }).code;
      if (!(e instanceof UsageError) && (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS'))) throw e;
      process.stderr.write(`bench --scenario ${own}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  let o: BenchOptions;
  try {
    o = parseOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const envFile = join(repoRoot, '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  process.env['KAFKAJS_NO_PARTITIONER_WARNING'] = '1';

  const progress = new Progress();
  if (o.build) {
    progress.say(`compiling keyflow into ${join(o.outDir, 'build')}`);
    buildKeyflow(join(o.outDir, 'build'));
  }
  const command = `npm run bench --${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  const results: BenchResult[] = [];
  let failed = false;
  for (const name of o.scenarios) {
    let r: BenchResult;
    try {
      r = await runScenario(o, name, progress, command);
    } catch (e) {
      progress.done();
      process.stderr.write(`bench ${name}: FAILED — ${(e as Error).stack ?? String(e)}\n`);
      failed = true;
      continue;
    }
    r = { ...r, report: writeReport(r, o.outDir) };
    results.push(r);
    process.stdout.write(`\n${resultTable(r)}\n\n`);
    if (!r.exactness.ok) {
      failed = true;
      process.stderr.write(`${new ExactnessError(name, r.exactness.problems).message}\n`);
    }
    if (r.baselineErrors.length > 0) {
      failed = true;
      process.stderr.write(`bench ${name}: baselines failed:\n  ${r.baselineErrors.join('\n  ')}\n`);
    }
    if (r.keyflow.exitCode !== 0) {
      failed = true;
      process.stderr.write(`bench ${name}: keyflow exited ${r.keyflow.exitCode} on SIGTERM (expected 0)\n`);
    }
  }
  if (o.json !== undefined) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(o.scenarios.length === 1 ? (results[0] ?? null) : results, null, 2)}\n`);
    process.stderr.write(`bench: wrote ${o.json}\n`);
  }
  return failed ? 1 : 0;
}

const code = await main(process.argv.slice(2));
// kafkajs and pools may keep timers alive; everything was awaited and closed already.
process.exit(code);
