// Random event sets and a plain-TypeScript oracle for the time series and the funnel. Rule:
// nothing here reuses the code under test — bucket boundaries come from a minute-by-minute
// scan of the wall clock through Intl, funnels from a naive walk over each user's events —
// so a test that compares the two can fail.
import type { KeyflowEvent } from '../../actors/index.ts';
import { prng } from './events.ts';

/** The seeded PRNG every test shares (mulberry32). */
export const rng = prng;

export type GenOptions = {
  readonly seed: number;
  readonly n: number;
  /** Spans [from, to) the events fall in; one is picked at random per event. */
  readonly spans: readonly (readonly [number, number])[];
  readonly types: readonly string[];
  readonly users: number;
};

/**
 * Random events: several users and events without one, many types, two sources, funnel
 * stages, revenue in two currencies with refunds, and many ties in occurredAt (times are
 * drawn on a coarse grid, often shared).
 */
export function generateEvents(o: GenOptions): KeyflowEvent[] {
  const r = rng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: KeyflowEvent[] = [];
  const used = new Set<string>();
  for (let i = 0; i < o.n; i++) {
    const [a, b] = pick(o.spans);
    // A coarse grid (10 s) makes equal occurredAt frequent; some land on odd milliseconds.
    let t = a + Math.floor((r() * (b - a)) / 10_000) * 10_000;
    if (r() < 0.2) t += Math.floor(r() * 1000);
    if (t >= b) t = a;
    const id = `e${Math.floor(r() * 1e6).toString(36)}`;
    if (used.has(`${id}@${t}`)) continue;
    used.add(`${id}@${t}`);
    const e: KeyflowEvent = {
      id,
      type: pick(o.types),
      source: pick(['web', 'ios']),
      occurredAt: t,
      ...(r() < 0.85 ? { userId: `u${Math.floor(r() * o.users)}` } : {}),
      ...(r() < 0.4 ? { funnelStage: pick(['top', 'bottom'] as const) } : {}),
      ...(r() < 0.3 ? { revenue: { amount: Math.round((r() * 300 - 60) * 100) / 100, currency: pick(['USD', 'EUR']) } } : {}),
    };
    out.push(e);
  }
  return out;
}

const ms = (e: KeyflowEvent): number => (typeof e.occurredAt === 'number' ? e.occurredAt : Date.parse(e.occurredAt));

/** Exact decimal sum of amounts with at most 2 decimals, in canonical form (no trailing zeros, "0"). */
export function decimalSum(amounts: readonly number[]): string {
  let cents = 0n;
  for (const a of amounts) cents += BigInt(Math.round(a * 100));
  const neg = cents < 0n;
  const abs = neg ? -cents : cents;
  const whole = abs / 100n;
  const frac = (abs % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  const s = frac === '' ? whole.toString() : `${whole}.${frac}`;
  return neg && s !== '0' ? `-${s}` : s;
}

const fmts = new Map<string, Intl.DateTimeFormat>();
function wall(tz: string, t: number): { date: string; hour: string; minute: string; offset: string } {
  let f = fmts.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'longOffset' });
    fmts.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return { date: `${p['year']}-${p['month']}-${p['day']}`, hour: p['hour'] ?? '', minute: p['minute'] ?? '', offset: p['timeZoneName'] ?? '' };
}

/** Bucket key of an instant: the local date (1d), or the local hour/minute with its offset. */
export function oracleKey(tz: string, interval: '1m' | '1h' | '1d', t: number): string {
  const w = wall(tz, t);
  if (interval === '1d') return w.date;
  if (interval === '1h') return `${w.date} ${w.hour} ${w.offset}`;
  return `${w.date} ${w.hour}:${w.minute} ${w.offset}`;
}

/**
 * Bucket starts meeting [from, to) by scanning every whole minute (zones change offset on
 * whole minutes): a start is a minute whose key differs from the minute before it.
 */
export function oracleBucketStarts(tz: string, interval: '1m' | '1h' | '1d', from: number, to: number): number[] {
  const m0 = Math.floor(from / 60_000) * 60_000;
  // Walk back from the minute holding `from` to the start of its bucket.
  let s = m0;
  const k0 = oracleKey(tz, interval, m0);
  while (oracleKey(tz, interval, s - 60_000) === k0) s -= 60_000;
  const starts = [s];
  let prev = k0;
  for (let m = m0 + 60_000; m < to; m += 60_000) {
    const k = oracleKey(tz, interval, m);
    if (k !== prev) starts.push(m);
    prev = k;
  }
  return starts;
}

export type OraclePoint = { t: number; events: number; users: number; revenue: Record<string, string> };

/** The series over `events` for the given bucket starts (the window clips the first and last). */
export function oracleSeries(
  events: readonly KeyflowEvent[],
  starts: readonly number[],
  from: number,
  to: number,
  f: { source?: readonly string[]; type?: readonly string[]; funnelStage?: string } = {},
): OraclePoint[] {
  return starts.map((t, i) => {
    const lo = Math.max(t, from);
    const hi = Math.min(starts[i + 1] ?? Infinity, to);
    const inside = events.filter(
      (e) =>
        ms(e) >= lo && ms(e) < hi &&
        (f.source === undefined || f.source.includes(e.source)) &&
        (f.type === undefined || f.type.includes(e.type)) &&
        (f.funnelStage === undefined || e.funnelStage === f.funnelStage),
    );
    const users = new Set(inside.flatMap((e) => (e.userId === undefined ? [] : [e.userId])));
    const byCur = new Map<string, number[]>();
    for (const e of inside) if (e.revenue) byCur.set(e.revenue.currency, [...(byCur.get(e.revenue.currency) ?? []), e.revenue.amount]);
    const revenue: Record<string, string> = {};
    for (const c of [...byCur.keys()].sort()) revenue[c] = decimalSum(byCur.get(c) ?? []);
    return { t, events: inside.length, users: users.size, revenue };
  });
}

export type OracleStep = {
  type: string;
  users: number;
  conversionFromFirst: number;
  conversionFromPrevious: number;
  medianMsFromPrevious: number | null;
};

/** The funnel of DESIGN.md, naively: every e1, a linear scan for each next step. */
export function oracleFunnel(
  events: readonly KeyflowEvent[],
  q: { from: number; to: number; steps: readonly string[]; windowMs: number; source?: readonly string[] },
): OracleStep[] {
  const byUser = new Map<string, KeyflowEvent[]>();
  for (const e of events) {
    if (e.userId === undefined || ms(e) < q.from || ms(e) >= q.to) continue;
    if (q.source !== undefined && !q.source.includes(e.source)) continue;
    byUser.set(e.userId, [...(byUser.get(e.userId) ?? []), e]);
  }
  const chains: number[][] = [];
  for (const list of byUser.values()) {
    list.sort((a, b) => ms(a) - ms(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let best: number[] = [];
    for (let i = 0; i < list.length; i++) {
      if (list[i]?.type !== q.steps[0]) continue;
      const t1 = ms(list[i] as KeyflowEvent);
      const chain = [t1];
      let at = i;
      for (let k = 1; k < q.steps.length; k++) {
        let found = -1;
        for (let j = at + 1; j < list.length; j++) {
          if (list[j]?.type === q.steps[k]) {
            found = j;
            break;
          }
        }
        if (found < 0 || ms(list[found] as KeyflowEvent) - t1 > q.windowMs) break;
        chain.push(ms(list[found] as KeyflowEvent));
        at = found;
      }
      if (chain.length > best.length) best = chain;
    }
    if (best.length > 0) chains.push(best);
  }
  const first = chains.length;
  return q.steps.map((type, k) => {
    const reached = chains.filter((c) => c.length > k);
    const prev = k === 0 ? reached.length : chains.filter((c) => c.length > k - 1).length;
    const gaps = k === 0 ? [] : reached.map((c) => (c[k] as number) - (c[k - 1] as number)).sort((a, b) => a - b);
    return {
      type,
      users: reached.length,
      conversionFromFirst: first === 0 ? 0 : reached.length / first,
      conversionFromPrevious: prev === 0 ? 0 : reached.length / prev,
      medianMsFromPrevious: gaps.length === 0 ? null : (gaps[Math.floor((gaps.length - 1) / 2)] as number),
    };
  });
}
