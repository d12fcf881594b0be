// When did each stored event become queryable? PostgreSQL keeps no commit times unless
// track_commit_timestamp is on (it is not, and turning it on needs a restart of a shared
// server), and `events.received_at` is now() — the START of the flush transaction, earlier
// than the commit by the whole transaction. So the bench watches commit from outside:
//
// Rule: a transaction X is visible at the first polled snapshot whose xmax is above X and
// whose in-progress list does not hold X; the time of that poll (taken after its answer
// arrived) is when X's rows became queryable, late by at most one poll interval plus one
// round trip — never early. Every event row names its transaction in its xmin.
import { Worker } from 'node:worker_threads';

/** One polled snapshot: when it was read, its xmax and in-progress xids (64-bit, as numbers). */
export type Snapshot = { readonly t: number; readonly xmax: number; readonly xip: readonly number[] };

const TWO_32 = 2 ** 32;

/** Answers "when did transaction x become visible" from a run's polled snapshots. */
export class VisibilityMap {
  readonly snapshots: readonly Snapshot[];
  /** Mean milliseconds between polls: the resolution of every latency measured here. */
  readonly pollIntervalMs: number;

  constructor(snapshots: readonly Snapshot[], pollIntervalMs: number) {
    this.snapshots = snapshots;
    this.pollIntervalMs = pollIntervalMs;
  }

  /** Parse `pg_current_snapshot()::text`, e.g. `100:104:100,102`. */
  static parse(t: number, text: string): Snapshot {
    const [, xmax = '0', xip = ''] = text.split(':');
    return { t, xmax: Number(xmax), xip: xip === '' ? [] : xip.split(',').map(Number) };
  }

  /** The epoch-qualified xid of a row's 32-bit xmin: the one nearest the newest snapshot's xmax. */
  full(xid32: number): number {
    const newest = this.snapshots[this.snapshots.length - 1];
    if (newest === undefined) return xid32;
    const candidate = Math.floor(newest.xmax / TWO_32) * TWO_32 + xid32;
    return candidate - newest.xmax > TWO_32 / 2 ? candidate - TWO_32 : candidate;
  }

  /** Epoch ms at which the transaction with this 32-bit xid was first seen committed. */
  visibleAt(xid32: number): number | undefined {
    const x = this.full(xid32);
    const s = this.snapshots;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((s[mid] as Snapshot).xmax <= x) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < s.length; i++) {
      const snap = s[i] as Snapshot;
      if (!snap.xip.includes(x)) return snap.t;
    }
    return undefined;
  }
}

/** A running poller; stop() ends it and returns what it saw. */
export type VisibilityPoller = { stop(): Promise<VisibilityMap> };

/**
 * Start polling snapshots on `databaseUrl` every `intervalMs` in a worker thread.
 *
 * @example
 * const poller = await startVisibilityPoller(url);
 * // … run the load …
 * const vis = await poller.stop();
 * vis.visibleAt(row.xmin);
 */
export async function startVisibilityPoller(databaseUrl: string, intervalMs = 5): Promise<VisibilityPoller> {
  const entry = new URL(`./visibility-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  // tsx's loader does not reach worker threads by itself: the thread registers it first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  const worker = new Worker(boot, { eval: true, workerData: { url: databaseUrl, intervalMs } });
  type Msg = { type: 'ready' } | { type: 'done'; snapshots: [number, string][]; polls: number; ms: number } | { type: 'error'; message: string };
  const messages: Msg[] = [];
  const waiters: ((m: Msg) => void)[] = [];
  worker.on('message', (m: Msg) => {
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  const exited = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`visibility poller exited (code ${code})`)));
  });
  exited.catch(() => undefined);
  const next = (): Promise<Msg> => {
    const m = messages.shift();
    return m ? Promise.resolve(m) : Promise.race([new Promise<Msg>((r) => waiters.push(r)), exited]);
  };
  const first = await next();
  if (first.type !== 'ready') throw new Error(`visibility poller failed to start: ${first.type === 'error' ? first.message : first.type}`);
  return {
    stop: async () => {
      worker.postMessage('stop');
      const m = await next();
      if (m.type !== 'done') throw new Error(`visibility poller failed: ${m.type === 'error' ? m.message : m.type}`);
      return new VisibilityMap(m.snapshots.map(([t, s]) => VisibilityMap.parse(t, s)), m.polls > 0 ? m.ms / m.polls : Number.NaN);
    },
  };
}
