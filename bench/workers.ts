// `npm run bench -- --scenario workers [--events N] [--processes 1,2,3] [--threads T] [--json FILE]`
//
// Scale-out on one machine: the same N events, sent straight to Kafka at full speed, consumed
// by 1, then 2, then 3 `keyflow worker` processes in one consumer group (T worker threads
// each), one run after the other in the same bench run. Each run has its own database,
// topic and group, and is judged exact (every event stored and counted once) before its
// figures count. Reported per run: events/s end to end (first send → last event counted in
// rollups_minute) and where the machine's CPU went — each worker process, PostgreSQL, Kafka,
// the bench, the rest — so that "no gain" says which resource was the limit.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { serviceUrls, testEnv, testKafka } from '../test/support/services.ts';
import { isolate, startKeyflow, type KeyflowProcess } from '../test/support/keyflow.ts';
import { num } from './args.ts';
import { cpuByComponent, cpuDiff, runServices, type CpuByComponent } from './cpu.ts';
import { checkExactness, type Exactness } from './exactness.ts';
import { EventFactory } from './generate.ts';
import { ensureServices } from './keyflow.ts';
import { RollupPoller, storeFacts } from './measure.ts';
import { Plan } from './plan.ts';
import { readProc } from './proc.ts';
import { kafkaSender, pump } from './send.ts';

export type WorkersRun = {
  readonly processes: number;
  readonly threadsPerProcess: number;
  readonly events: number;
  readonly eventsPerSec: number;
  readonly wallSeconds: number;
  /** CPU seconds of each worker process (its whole tree), in the run's window. */
  readonly perProcessCpuSeconds: number[];
  /** Peak RSS of each worker process while the run lasted (MiB). */
  readonly perProcessPeakRssMiB: number[];
  /** The machine's CPU in the window, by component (`keyflow` = all worker processes). */
  readonly cpu: CpuByComponent;
  readonly exactness: Exactness;
};

export type WorkersResult = {
  readonly scenario: 'workers';
  readonly command: string;
  readonly cpus: number;
  readonly partitions: number;
  readonly runs: WorkersRun[];
};

function options(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      scenario: { type: 'string' }, events: { type: 'string' }, processes: { type: 'string' }, threads: { type: 'string' },
      partitions: { type: 'string' }, json: { type: 'string' }, seed: { type: 'string' }, users: { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, d: number): number => num(name, v, d, { min: 1, int: true });
  const processes = (values.processes ?? '1,2,3').split(',').map((p) => int('processes', p.trim(), 1));
  return {
    events: int('events', values.events, 200_000),
    processes,
    threads: int('threads', values.threads, availableParallelism()),
    partitions: int('partitions', values.partitions, 12),
    users: int('users', values.users, 10_000),
    seed: int('seed', values.seed, 1),
    json: values.json,
  };
}

const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Wait until the group has `n` members (one consumer per worker thread) and is Stable. */
async function groupStable(brokers: readonly string[], groupId: string, n: number, timeoutMs = 120_000): Promise<void> {
  const admin = testKafka('keyflow-bench-admin', { brokers: [...brokers] }).admin();
  await admin.connect();
  try {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      last = `${g?.state ?? 'unknown'} with ${g?.members.length ?? 0} members`;
      if (g?.state === 'Stable' && g.members.length === n) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`consumer group ${groupId} not Stable with ${n} members within ${timeoutMs} ms (last: ${last})`);
  } finally {
    await admin.disconnect();
  }
}

async function runOnce(o: ReturnType<typeof options>, n: number, tag: string): Promise<WorkersRun> {
  const iso = await isolate({ KEYFLOW_LOG_LEVEL: 'info', KEYFLOW_PARTITIONS: String(o.partitions), KEYFLOW_WORKERS: String(o.threads) });
  const urls = serviceUrls(testEnv());
  const procs: KeyflowProcess[] = [];
  try {
    // The first process migrates the database and creates the topic; the others join after.
    for (let i = 0; i < n; i++) procs.push(await startKeyflow(iso.env, 'worker'));
    const groupId = iso.env['KEYFLOW_GROUP_ID'] ?? '';
    await groupStable(urls.kafkaBrokers, groupId, n * o.threads);
    const pids = procs.map((p) => p.child.pid ?? 0);
    const services = runServices(iso.db.url, urls.redisUrl);
    const factory = new EventFactory({ seed: o.seed + n, idPrefix: `${tag}-w${n}-`, users: o.users, zipf: 0.8, hotKeyShare: 0 });
    const plan = new Plan({ factory, events: o.events, dupRatio: 0, seed: o.seed + n }).prepare();
    const sender = await kafkaSender(urls.kafkaBrokers, iso.topic);
    const rollups = new RollupPoller(iso.db.sql).start();
    const peaks = pids.map(() => 0);
    const rss = setInterval(() => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i] ?? 0, (readProc(pid)?.rssKiB ?? 0) / 1024))), 200);
    /** CPU seconds of each worker process's tree, now. */
    const ownCpu = () => pids.map((pid) => readProc(pid)?.cpuS ?? 0);
    const cpu0 = cpuByComponent(pids, services);
    const own0 = ownCpu();
    say(`workers: ${n} process${n > 1 ? 'es' : ''} × ${o.threads} threads — sending ${o.events.toLocaleString('en-US')} events to Kafka`);
    try {
      const sent = await pump(plan, sender, { rate: 'max', batch: 1000, inFlight: 4 });
      const waited = await rollups.until(plan.distinct, { timeoutMs: 600_000, stallMs: 60_000 });
      if (waited.at === undefined) throw new Error(`${n} worker processes: ${waited.why}`);
      const cpu = cpuDiff(cpu0, cpuByComponent(pids, services));
      const own = ownCpu().map((s, i) => Math.round((s - (own0[i] ?? 0)) * 100) / 100);
      const windowMs = Math.max(1, waited.at - sent.firstSentAt);
      await new Promise((r) => setTimeout(r, 1_000));
      const exactness = checkExactness({ [`w${n}`]: plan.distinct }, await storeFacts(iso.db.sql, tag));
      const run: WorkersRun = {
        processes: n,
        threadsPerProcess: o.threads,
        events: plan.distinct,
        eventsPerSec: Math.round((plan.distinct / windowMs) * 1000),
        wallSeconds: Math.round(windowMs / 10) / 100,
        perProcessCpuSeconds: own,
        perProcessPeakRssMiB: peaks.map((p) => Math.round(p)),
        cpu,
        exactness,
      };
      say(`workers: ${n} → ${run.eventsPerSec.toLocaleString('en-US')} events/s, exact: ${exactness.ok}`);
      return run;
    } finally {
      clearInterval(rss);
      rollups.stop();
      await sender.close();
    }
  } finally {
    for (const p of procs) await p.stop('SIGTERM').catch(() => undefined);
    await iso.cleanup();
  }
}

export function workersTable(r: WorkersResult): string {
  const L = [
    `scenario workers: the same ${r.runs[0]?.events.toLocaleString('en-US') ?? 0} events straight to Kafka, consumed by N \`keyflow worker\` processes (${r.runs[0]?.threadsPerProcess ?? 0} threads each, ${r.partitions} partitions) · ${r.cpus} CPUs`,
    '',
    '| processes | events/s | vs 1 process | wall s | CPU s: each worker process | all keyflow | postgres | kafka | bench | other | idle | peak RSS per process (MiB) | exact |',
    '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|:---:|',
  ];
  const one = r.runs.find((x) => x.processes === 1)?.eventsPerSec;
  for (const x of r.runs) {
    L.push(`| ${x.processes} | ${x.eventsPerSec.toLocaleString('en-US')} | ${one ? `${(x.eventsPerSec / one).toFixed(2)}×` : '—'} | ${x.wallSeconds.toFixed(1)} | ${x.perProcessCpuSeconds.map((s) => s.toFixed(1)).join(' + ')} | ${x.cpu.keyflow.toFixed(1)} | ${x.cpu.postgres.toFixed(1)} | ${x.cpu.kafka.toFixed(1)} | ${x.cpu.bench.toFixed(1)} | ${x.cpu.other.toFixed(1)} | ${x.cpu.idle.toFixed(1)} | ${x.perProcessPeakRssMiB.join(' / ')} | ${x.exactness.ok ? '✓' : '✗'} |`);
  }
  return L.join('\n');
}

export async function runWorkersBench(argv: readonly string[]): Promise<number> {
  const o = options(argv);
  await ensureServices(say);
  const tag = randomBytes(4).toString('hex');
  const runs: WorkersRun[] = [];
  for (const n of o.processes) runs.push(await runOnce(o, n, tag));
  const result: WorkersResult = { scenario: 'workers', command: `npm run bench -- ${argv.join(' ')}`, cpus: availableParallelism(), partitions: o.partitions, runs };
  process.stdout.write(`\n${workersTable(result)}\n\n`);
  if (o.json !== undefined) {
    mkdirSync(dirname(o.json), { recursive: true });
    writeFileSync(o.json, `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote ${o.json}`);
  }
  const failed = runs.filter((x) => !x.exactness.ok);
  for (const x of failed) process.stderr.write(`bench workers: ${x.processes} processes: EXACTNESS CHECK FAILED\n  ${x.exactness.problems.join('\n  ')}\n`);
  return failed.length > 0 ? 1 : 0;
}
