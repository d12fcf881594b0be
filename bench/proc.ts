// Resident memory and CPU time of a process and its descendants, read from /proc.
//
// Rule: memory is the sum of VmRSS over the process tree, sampled every `intervalMs`, and
// the peak also takes the kernel's own high-water mark (VmHWM) of the root process, so a
// spike between two samples is not missed; CPU is utime + stime of the whole tree.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type ProcSample = {
  readonly t: number;
  /** Sum of VmRSS over the tree, KiB. */
  readonly rssKiB: number;
  /** The root's VmHWM, KiB. */
  readonly hwmKiB: number;
  /** utime + stime of the tree, seconds. */
  readonly cpuS: number;
};

let clockTicks: number | undefined;
/** The kernel's clock ticks per second (/proc CPU times are in ticks). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** `pid` and every process below it. */
export function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let children = '';
    try {
      children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  }
  return out;
}

function statusKiB(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/** One reading of the tree under `pid`; undefined once the process is gone. */
export function readProc(pid: number): ProcSample | undefined {
  let rss = 0;
  let hwm = 0;
  let ticks = 0;
  try {
    for (const p of descendants(pid)) {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += statusKiB(status, 'VmRSS');
      if (p === pid) hwm = statusKiB(status, 'VmHWM');
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    }
  } catch {
    if (rss === 0) return undefined;
  }
  return { t: Date.now(), rssKiB: rss, hwmKiB: hwm, cpuS: ticks / ticksPerSecond() };
}

/** Samples a process tree until stopped. */
export class ProcSampler {
  readonly samples: ProcSample[] = [];
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 200) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
    this.sample();
  }

  /** Take a sample now (also done every interval). */
  sample(): ProcSample | undefined {
    const s = readProc(this.#pid);
    if (s !== undefined) this.samples.push(s);
    return s;
  }

  get last(): ProcSample | undefined {
    return this.samples[this.samples.length - 1];
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Peak MiB within [from, to]: the largest sampled tree RSS, or the root's VmHWM when that is higher and was reached in the window. */
  peakRssMiB(from = 0, to = Number.POSITIVE_INFINITY): number {
    let peak = 0;
    let hwmBefore = 0;
    let hwmEnd = 0;
    for (const s of this.samples) {
      if (s.t < from) hwmBefore = Math.max(hwmBefore, s.hwmKiB);
      else if (s.t <= to) {
        peak = Math.max(peak, s.rssKiB);
        hwmEnd = Math.max(hwmEnd, s.hwmKiB);
      }
    }
    // The high-water mark grew inside the window: the root itself peaked there.
    if (hwmEnd > hwmBefore) peak = Math.max(peak, hwmEnd);
    return peak / 1024;
  }

  /** CPU seconds spent within [from, to]. */
  cpuSeconds(from = 0, to = Number.POSITIVE_INFINITY): number {
    const inside = this.samples.filter((s) => s.t >= from && s.t <= to);
    const a = inside[0];
    const b = inside[inside.length - 1];
    return a === undefined || b === undefined ? 0 : b.cpuS - a.cpuS;
  }
}
