// Where keyflow's CPU time goes: a summary of the V8 CPU profiles (`--cpu-prof`) its threads
// wrote — self time per function and per package or project folder, thread by thread.
//
//   node --import tsx bench/profile.ts bench/out/prof/<run>     print the summary of a directory
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../compose/local/index.ts';

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number };
type CpuProfile = { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] };

export type SelfTime = { readonly name: string; readonly ms: number; readonly pct: number };
export type ThreadProfile = {
  readonly file: string;
  readonly thread: string;
  readonly wallMs: number;
  /** CPU time: every sample that was not (idle) or parked in Atomics.wait. */
  readonly busyMs: number;
  readonly byModule: readonly SelfTime[];
  readonly top: readonly SelfTime[];
};
export type ProfileSummary = { readonly dir: string; readonly threads: readonly ThreadProfile[]; readonly top: readonly SelfTime[]; readonly byModule: readonly SelfTime[] };

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);
// Samples of a thread that waits rather than works: V8's (idle), and a piscina worker parked
// in Atomics.wait (a blocking call the profiler cannot tell from work).
const BLOCKED = new Set(['(idle)', 'atomicsWaitLoop']);

function moduleOf(f: CallFrame): string {
  if (SPECIAL.has(f.functionName) && f.url === '') return f.functionName;
  const url = f.url;
  if (url === '') return '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  let path = url;
  try {
    if (url.startsWith('file:')) path = fileURLToPath(url);
  } catch {
    // keep the url
  }
  // Compiled keyflow (--build, or dist/) is keyflow too: name its source folder.
  if (path.startsWith(repoRoot)) return `${path.slice(repoRoot.length + 1).replace(/^(bench\/out\/build|dist)\//, '').split('/')[0]}/ (keyflow)`;
  return path;
}

function where(f: CallFrame): string {
  if (f.url === '') return '';
  const short = f.url.replace(/^file:\/\//, '').replace(`${repoRoot}/`, '').replace(/^(bench\/out\/build|dist)\//, '').replace(/^.*\/node_modules\//, '');
  return `${short}:${f.lineNumber + 1}`;
}

/** Self time per node id, from samples and their time deltas (µs). */
function selfMicros(p: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length > 0) {
    // A sample's time is the gap to the next one.
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i] as number;
      const dt = deltas[i + 1] ?? 0;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, dt));
    }
    return self;
  }
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
  for (const n of p.nodes) self.set(n.id, ((n.hitCount ?? 0) / hits) * (p.endTime - p.startTime));
  return self;
}

function rank(m: Map<string, number>, total: number, n: number): SelfTime[] {
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: total > 0 ? Math.round((us / total) * 1000) / 10 : 0 }));
}

/** Summarize every *.cpuprofile in `dir`; percentages are of busy (non-idle) time. */
export function summarizeProfiles(dir: string, topN = 25): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const allFns = new Map<string, number>();
  const allMods = new Map<string, number>();
  let allBusy = 0;
  const threads: ThreadProfile[] = [];
  for (const file of files) {
    const p = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const fns = new Map<string, number>();
    const mods = new Map<string, number>();
    let busy = 0;
    for (const [id, us] of selfMicros(p)) {
      const node = byId.get(id);
      if (node === undefined || BLOCKED.has(node.callFrame.functionName)) continue;
      busy += us;
      const f = node.callFrame;
      const fn = `${f.functionName || '(anonymous)'} ${where(f)}`.trim();
      const mod = moduleOf(f);
      fns.set(fn, (fns.get(fn) ?? 0) + us);
      mods.set(mod, (mods.get(mod) ?? 0) + us);
      allFns.set(fn, (allFns.get(fn) ?? 0) + us);
      allMods.set(mod, (allMods.get(mod) ?? 0) + us);
    }
    allBusy += busy;
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
    const tid = file.split('.')[4];
    threads.push({
      file,
      thread: tid === '0' ? 'main' : `worker thread ${tid}`,
      wallMs: Math.round((p.endTime - p.startTime) / 1000),
      busyMs: Math.round(busy / 1000),
      byModule: rank(mods, busy, 12),
      top: rank(fns, busy, topN),
    });
  }
  return { dir, threads, top: rank(allFns, allBusy, topN), byModule: rank(allMods, allBusy, 15) };
}

/** The summary as Markdown. */
export function profileMarkdown(s: ProfileSummary, topN = 20): string {
  const lines: string[] = [];
  lines.push(`Profiles: \`${s.dir}\` — ${s.threads.map((t) => `${t.thread} busy ${(t.busyMs / 1000).toFixed(1)} s of ${(t.wallMs / 1000).toFixed(1)} s`).join('; ')}.`, '');
  lines.push('| self time by package / folder (all threads) | ms | % of busy |', '|---|---:|---:|');
  for (const m of s.byModule) lines.push(`| ${m.name} | ${m.ms.toFixed(0)} | ${m.pct.toFixed(1)} |`);
  lines.push('', '| top self-time functions (all threads) | ms | % of busy |', '|---|---:|---:|');
  for (const f of s.top.slice(0, topN)) lines.push(`| \`${f.name.replaceAll('|', '\\|')}\` | ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} |`);
  for (const t of s.threads) {
    lines.push('', `**${t.thread}** (busy ${(t.busyMs / 1000).toFixed(1)} s): ${t.byModule.slice(0, 8).map((m) => `${m.name} ${m.pct}%`).join(', ')}`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (dir === undefined) {
    process.stderr.write('usage: node --import tsx bench/profile.ts <directory of .cpuprofile files>\n');
    process.exit(2);
  }
  process.stdout.write(`${profileMarkdown(summarizeProfiles(dir))}\n`);
}
