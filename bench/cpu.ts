// Where the machine's CPU went: one reading of every process, sorted into keyflow, its
// services, the bench itself and everything else. Two readings subtracted give a window's
// breakdown — on a shared machine the only honest way to say whose CPU a slow run lacked.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../compose/local/index.ts';
import { descendants, ticksPerSecond } from './proc.ts';

/** CPU seconds used so far by each part of the machine that matters here. */
export type CpuByComponent = { keyflow: number; postgres: number; kafka: number; redis: number; bench: number; other: number; idle: number };

/** PostgreSQL's own helper processes, which work for every database. */
const PG_AUX = /^postgres: (walwriter|checkpointer|background writer|autovacuum launcher|logical replication launcher|stats collector|walsender)/;

/**
 * Read every process once and add its CPU time to keyflow (the tree under `keyflowPid`),
 * postgres (backends of `database`, and the postmaster and helper processes of their
 * cluster), kafka
 * (a java running kafka.Kafka), redis, or the bench itself; "other" is the rest of the
 * machine's busy time from /proc/stat — other databases' backends, other people's processes
 * and anything that exited — so that two readings subtracted say where a window's CPU went.
 */
export type Services = {
  /** The run's database name. */
  readonly database: string | undefined;
  /** Redis's port, as its command line shows it. */
  readonly redisPort: number | undefined;
  /** The broker's server.properties, as its command line shows it. */
  readonly kafkaProperties: string | undefined;
};

/** The services of a run on the local services: its database, the Redis and the broker. */
export function runServices(databaseUrl: string, redisUrl: string): Services {
  return {
    database: new URL(databaseUrl).pathname.slice(1),
    redisPort: Number(new URL(redisUrl).port) || 6379,
    kafkaProperties: join(loadSettings(process.env).servicesDir, 'kafka', 'server.properties'),
  };
}

export function cpuByComponent(keyflowPid: number | readonly number[] | undefined, services: Services): CpuByComponent {
  const { database } = services;
  const hz = ticksPerSecond();
  const out: CpuByComponent = { keyflow: 0, postgres: 0, kafka: 0, redis: 0, bench: 0, other: 0, idle: 0 };
  // Several roots: keyflow as an edge and worker processes, all counted as keyflow.
  const roots = keyflowPid === undefined ? [] : typeof keyflowPid === 'number' ? [keyflowPid] : keyflowPid;
  const keyflow = new Set(roots.flatMap((pid) => descendants(pid)));
  const pg: { pid: number; ppid: number; s: number; cmd: string }[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const d of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const s = (Number(f[11]) + Number(f[12])) / hz;
    const pid = Number(d);
    if (keyflow.has(pid)) out.keyflow += s;
    else if (pid === process.pid) out.bench += s;
    else if (comm === 'postgres') pg.push({ pid, ppid: Number(f[1]), s, cmd: cmdline(pid) });
    else if (comm === 'redis-server' && services.redisPort !== undefined && cmdline(pid).includes(`:${services.redisPort}`)) out.redis += s;
    else if (comm === 'java' && services.kafkaProperties !== undefined && isKafka(pid, services.kafkaProperties)) out.kafka += s;
  }
  // The run's cluster is the postmaster of the run's backends (another cluster may run beside it).
  const master = pg.find((p) => database !== undefined && p.cmd.includes(` ${database} `))?.ppid;
  for (const p of pg) {
    const ours = p.pid === master || (p.ppid === master && (PG_AUX.test(p.cmd) || (database !== undefined && p.cmd.includes(` ${database} `))));
    if (ours) out.postgres += p.s;
  }
  try {
    // cpu  user nice system idle iowait irq softirq steal …
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const busy = cpu.reduce((a, b) => a + b, 0) - idle;
    out.idle = idle / hz;
    out.other = busy / hz - out.keyflow - out.bench - out.postgres - out.redis - out.kafka;
  } catch {
    // no machine-wide figures
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

const kafkaPids = new Map<number, boolean>();
function isKafka(pid: number, properties: string): boolean {
  let known = kafkaPids.get(pid);
  if (known === undefined) {
    const cmd = cmdline(pid);
    known = cmd.includes('kafka.Kafka') && cmd.includes(properties);
    kafkaPids.set(pid, known);
  }
  return known;
}

/** b − a, field by field. */
export function cpuDiff(a: CpuByComponent, b: CpuByComponent): CpuByComponent {
  const r = (k: keyof CpuByComponent) => Math.round((b[k] - a[k]) * 100) / 100;
  return { keyflow: r('keyflow'), postgres: r('postgres'), kafka: r('kafka'), redis: r('redis'), bench: r('bench'), other: r('other'), idle: r('idle') };
}
