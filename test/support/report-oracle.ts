// An independent model of the three reports, for the oracle tests: plain TypeScript over the
// events a test generated, with no SQL and no rollups. Rule: it follows DESIGN.md
// *Analytics* and the README's documented choices literally (counts over [from, to),
// exact decimal sums in BigInt, the current profile value = the newest occurredAt that
// carried the field, ties to the greater value), so a difference from the routes is a bug
// in one of them, never a shared one.
import type { KeyflowEvent } from '../../actors/index.ts';

export type OracleQuery = {
  readonly from: number;
  readonly to: number;
  readonly source?: readonly string[];
  readonly type?: readonly string[];
  readonly funnelStage?: 'top' | 'bottom';
};

/** The distinct stored events: one per identity (id, occurredAt), as the store keeps them. */
export function storedOnce(events: readonly KeyflowEvent[]): KeyflowEvent[] {
  const seen = new Map<string, KeyflowEvent>();
  for (const e of events) {
    const k = `${e.id}\u0000${e.occurredAt}`;
    if (!seen.has(k)) seen.set(k, e);
  }
  return [...seen.values()];
}

function matching(events: readonly KeyflowEvent[], q: OracleQuery): KeyflowEvent[] {
  return events.filter(
    (e) =>
      e.occurredAt >= q.from &&
      e.occurredAt < q.to &&
      (q.source === undefined || q.source.includes(e.source)) &&
      (q.type === undefined || q.type.includes(e.type)) &&
      (q.funnelStage === undefined || e.funnelStage === q.funnelStage),
  );
}

const byUnits = (a: string | null | undefined, b: string | null | undefined): number => {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return a < b ? -1 : 1;
};

type Dim = 'type' | 'source' | 'funnelStage';

export function oracleEvents(events: readonly KeyflowEvent[], q: OracleQuery & { groupBy: readonly Dim[] }) {
  const m = matching(events, q);
  if (q.groupBy.length === 0) return { total: m.length, groups: [] };
  const groups = new Map<string, Record<string, unknown> & { count: number }>();
  for (const e of m) {
    const g: Record<string, string | null> = {};
    for (const d of q.groupBy) g[d] = d === 'funnelStage' ? (e.funnelStage ?? null) : e[d];
    const k = JSON.stringify(q.groupBy.map((d) => g[d]));
    const cur = groups.get(k) ?? { ...g, count: 0 };
    cur.count++;
    groups.set(k, cur);
  }
  const list = [...groups.values()].sort((a, b) => {
    if (a.count !== b.count) return b.count - a.count;
    for (const d of q.groupBy) {
      const c = byUnits(a[d] as string | null, b[d] as string | null);
      if (c !== 0) return c;
    }
    return 0;
  });
  return { total: m.length, groups: list };
}

/** An amount as an integer number of 10^-SCALE units (the test's amounts have ≤ 6 decimals). */
const SCALE = 6;
function units(amount: number): bigint {
  const s = String(amount);
  if (/e/i.test(s)) throw new Error(`the oracle takes plain decimals, not ${s}`);
  const [int = '0', frac = ''] = s.replace('-', '').split('.');
  const v = BigInt(int) * 10n ** BigInt(SCALE) + BigInt(frac.padEnd(SCALE, '0'));
  return s.startsWith('-') ? -v : v;
}

/** A BigInt of 10^-SCALE units as the canonical decimal: no trailing zeros, "0" for zero. */
export function decimal(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const unit = 10n ** BigInt(SCALE);
  const frac = (a % unit).toString().padStart(SCALE, '0').replace(/0+$/, '');
  const s = `${a / unit}${frac === '' ? '' : `.${frac}`}`;
  return neg && s !== '0' ? `-${s}` : s;
}

type RDim = 'source' | 'type';

export function oracleRevenue(events: readonly KeyflowEvent[], q: OracleQuery & { groupBy: readonly RDim[] }) {
  const m = matching(events, q).filter((e) => e.revenue !== undefined);
  const cur = new Map<string, { sum: bigint; events: number; groups: Map<string, { g: Record<string, string>; sum: bigint; events: number }> }>();
  for (const e of m) {
    const r = e.revenue!;
    const c = cur.get(r.currency) ?? { sum: 0n, events: 0, groups: new Map() };
    c.sum += units(r.amount);
    c.events++;
    const g: Record<string, string> = {};
    for (const d of q.groupBy) g[d] = e[d];
    const k = JSON.stringify(q.groupBy.map((d) => g[d]));
    const gg = c.groups.get(k) ?? { g, sum: 0n, events: 0 };
    gg.sum += units(r.amount);
    gg.events++;
    c.groups.set(k, gg);
    cur.set(r.currency, c);
  }
  return {
    currencies: [...cur.entries()]
      .sort(([a], [b]) => byUnits(a, b))
      .map(([currency, c]) => ({
        currency,
        revenue: decimal(c.sum),
        events: c.events,
        ...(q.groupBy.length > 0 && {
          groups: [...c.groups.values()]
            .sort((a, b) => {
              if (a.events !== b.events) return b.events - a.events;
              for (const d of q.groupBy) {
                const x = byUnits(a.g[d], b.g[d]);
                if (x !== 0) return x;
              }
              return 0;
            })
            .map((x) => ({ ...x.g, revenue: decimal(x.sum), events: x.events })),
        }),
      })),
  };
}

type By = 'gender' | 'country' | 'city' | 'age';
export const AGE_ORDER = ['<18', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'];

function ageBucket(age: number): string {
  if (age < 18) return '<18';
  if (age < 25) return '18-24';
  if (age < 35) return '25-34';
  if (age < 45) return '35-44';
  if (age < 55) return '45-54';
  if (age < 65) return '55-64';
  return '65+';
}

/** Each user's current value of `by`: the newest occurredAt that carried it; a tie goes to the greater value. */
export function currentProfile(events: readonly KeyflowEvent[], by: By): Map<string, string | number> {
  const best = new Map<string, { at: number; v: string | number }>();
  for (const e of events) {
    const v = e.user?.[by];
    if (e.userId === undefined || v === undefined) continue;
    const b = best.get(e.userId);
    if (b === undefined || e.occurredAt > b.at || (e.occurredAt === b.at && v > b.v)) best.set(e.userId, { at: e.occurredAt, v });
  }
  return new Map([...best].map(([u, b]) => [u, b.v]));
}

export function oracleDemographics(events: readonly KeyflowEvent[], q: OracleQuery & { by: By }) {
  const profile = currentProfile(events, q.by);
  const perUser = new Map<string, number>();
  for (const e of matching(events, q)) if (e.userId !== undefined) perUser.set(e.userId, (perUser.get(e.userId) ?? 0) + 1);
  const groups = new Map<string | null, { value: string | null; users: number; events: number }>();
  for (const [u, n] of perUser) {
    const raw = profile.get(u);
    const value = raw === undefined ? null : q.by === 'age' ? ageBucket(raw as number) : String(raw);
    const g = groups.get(value) ?? { value, users: 0, events: 0 };
    g.users++;
    g.events += n;
    groups.set(value, g);
  }
  const list = [...groups.values()].sort((a, b) => {
    if (a.users !== b.users) return b.users - a.users;
    if (a.value === null || b.value === null) return byUnits(a.value, b.value);
    return q.by === 'age' ? AGE_ORDER.indexOf(a.value) - AGE_ORDER.indexOf(b.value) : byUnits(a.value, b.value);
  });
  return { users: perUser.size, events: [...perUser.values()].reduce((a, b) => a + b, 0), groups: list };
}
