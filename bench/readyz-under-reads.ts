// How fast /readyz answers while slow reports hold every connection of the read pool,
// measured through a real keyflow (`keyflow all`, a private database/topic/group like the
// tests): first at rest, then while `reports` reports wait inside PostgreSQL on a lock the
// bench holds on their tables (test/support/slow-reads.ts). Each probe is a fresh check
// (readiness caches its answer for 1 s, so probes are 1.1 s apart). Prints one line per phase:
// probes, statuses, median, p90 and max latency in ms.
//
//   npx tsx bench/readyz-under-reads.ts [reports=8] [probes=10] [app=keyflow-reads]
// (`app`: the application_name of keyflow's read sessions; `keyflow` for a version whose
// reads shared the one pool.)
import { isolate, startKeyflow } from '../test/support/keyflow.ts';
import { holdReportTables, startReports, untilCount, waitingOnLocks } from '../test/support/slow-reads.ts';

const [reports = 8, probes = 10] = process.argv.slice(2, 4).map(Number);
const app = process.argv[4] ?? 'keyflow-reads';
// The reports must outlast the probes: a statement timeout well past them.
const iso = await isolate({ KEYFLOW_QUERY_TIMEOUT_MS: String((probes * 1.1 + 30) * 1000), KEYFLOW_WORKERS: '1' });
const kf = await startKeyflow(iso.env);

async function probe(): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const res = await fetch(`${kf.url}/readyz`);
  await res.arrayBuffer();
  return { ms: performance.now() - started, status: res.status };
}

async function phase(name: string, check?: () => Promise<void>): Promise<void> {
  const out: { ms: number; status: number }[] = [];
  for (let i = 0; i < probes; i++) {
    await new Promise((r) => setTimeout(r, 1_100));
    out.push(await probe());
    await check?.();
  }
  const ms = out.map((x) => x.ms).sort((a, b) => a - b);
  const q = (p: number): string => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(1);
  const statuses = [...new Set(out.map((x) => x.status))].join(',');
  process.stdout.write(`${name}: ${out.length} probes, status ${statuses}, median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${ms.at(-1)!.toFixed(1)} ms\n`);
}

try {
  await phase('at rest');
  const unlock = await holdReportTables(iso.db.sql);
  const running = startReports(kf.url, reports);
  await untilCount('reports waiting in PostgreSQL', () => waitingOnLocks(iso.db.sql, app), Math.min(reports, 8));
  const stillWaiting = async (): Promise<void> => {
    const n = await waitingOnLocks(iso.db.sql, app);
    if (n < Math.min(reports, 8)) throw new Error(`only ${n} reports still waiting: the phase did not measure what it says`);
  };
  await phase(`${reports} slow reports running`, stillWaiting);
  await unlock();
  const answers = await Promise.all(running);
  process.stdout.write(`reports after the lock went: ${answers.map((a) => a.status).join(',')}\n`);
} finally {
  await kf.stop('SIGTERM');
  await iso.cleanup();
}
