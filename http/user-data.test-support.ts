// Random events for the event-list and user-profile tests, and the answers they imply,
// computed in plain TypeScript (the oracle) — never by the SQL under test. Several users,
// many types, refunds in two currencies, demographics that change over time, ties in
// occurredAt, ids that sort differently byte-wise than by locale, events without a userId,
// and resends of the same events.
import type { KeyflowEvent } from '../actors/index.ts';
import { prng } from '../test/support/events.ts';

const TYPES = ['ad.view', 'ad.click', 'page.view', 'signup', 'checkout.complete', 'refund', 'Video.play', 'form.submit'] as const;
const SOURCES = ['facebook', 'google', 'tiktok', 'email'] as const;
const CURRENCIES = ['USD', 'EUR'] as const;
const ID_PARTS = ['a', 'B', 'z', 'Ä', '0', '_', 'é', '-'] as const;

/** `n` distinct events (plus nothing else: resends are the caller's) of `users` users, from `fromMs`. */
export function userEvents(n: number, opts: { seed: number; users: number; fromMs: number }): KeyflowEvent[] {
  const rand = prng(opts.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: KeyflowEvent[] = [];
  for (let i = 0; i < n; i++) {
    const type = pick(TYPES);
    // 40 distinct minutes with a few ms offsets: many events share an occurredAt.
    const occurredAt = opts.fromMs + Math.floor(rand() * 40) * 60_000 + (rand() < 0.5 ? 0 : Math.floor(rand() * 3));
    const e: KeyflowEvent = {
      id: `${pick(ID_PARTS)}${pick(ID_PARTS)}${i.toString(36)}`,
      type,
      source: pick(SOURCES),
      occurredAt,
    };
    if (rand() < 0.85) e.userId = `u-${Math.floor(rand() * opts.users)}`;
    if (rand() < 0.3) e.funnelStage = rand() < 0.5 ? 'top' : 'bottom';
    if (type === 'checkout.complete' || type === 'refund') {
      const cents = Math.floor(rand() * 100_000) * (type === 'refund' ? -1 : 1);
      e.revenue = { amount: cents / (rand() < 0.2 ? 10 : 100), currency: pick(CURRENCIES) };
    }
    if (rand() < 0.4) {
      const user: NonNullable<KeyflowEvent['user']> = {};
      if (rand() < 0.6) user.age = 16 + Math.floor(rand() * 60);
      if (rand() < 0.6) user.gender = pick(['female', 'male', 'other']);
      if (rand() < 0.6) user.country = pick(['US', 'DE', 'GB', 'IN']);
      if (rand() < 0.6) user.city = pick(['Austin', 'Berlin', 'London', 'Pune']);
      e.user = user;
    }
    if (rand() < 0.5) e.properties = { page: `/p/${Math.floor(rand() * 9)}`, n: Math.floor(rand() * 100), ok: rand() < 0.5, none: null };
    out.push(e);
  }
  return out;
}

/** The list's order: occurredAt desc, then id desc compared byte-wise (UTF-8). */
export function newestFirst(a: KeyflowEvent, b: KeyflowEvent): number {
  return b.occurredAt - a.occurredAt || Buffer.compare(Buffer.from(b.id), Buffer.from(a.id));
}

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The profile DESIGN.md defines for `userId` over `events` (distinct), without recent's receivedAt. */
export function expectedProfile(events: readonly KeyflowEvent[], userId: string) {
  const mine = events.filter((e) => e.userId === userId);
  if (mine.length === 0) return undefined;
  const types = new Map<string, number>();
  const revenue = new Map<string, string[]>();
  for (const e of mine) {
    types.set(e.type, (types.get(e.type) ?? 0) + 1);
    if (e.revenue !== undefined) revenue.set(e.revenue.currency, [...(revenue.get(e.revenue.currency) ?? []), String(e.revenue.amount)]);
  }
  const profile: Record<string, string | number> = {};
  for (const field of ['age', 'gender', 'country', 'city'] as const) {
    let best: { at: number; value: string | number } | undefined;
    for (const e of mine) {
      const value = e.user?.[field];
      if (value === undefined) continue;
      // The newest occurredAt wins; on a tie the greater value (users table rule, 0002).
      const greater = best !== undefined && (typeof value === 'number' ? value > (best.value as number) : bytes(value, String(best.value)) > 0);
      if (best === undefined || e.occurredAt > best.at || (e.occurredAt === best.at && greater)) best = { at: e.occurredAt, value };
    }
    if (best !== undefined) profile[field] = best.value;
  }
  const times = mine.map((e) => e.occurredAt);
  return {
    userId,
    firstSeen: new Date(Math.min(...times)).toISOString(),
    lastSeen: new Date(Math.max(...times)).toISOString(),
    events: mine.length,
    profile,
    types: [...types].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || bytes(a.type, b.type)),
    revenue: [...revenue].map(([currency, amounts]) => ({ currency, revenue: decimalSum(amounts) })).sort((a, b) => bytes(a.currency, b.currency)),
    recentIds: [...mine].sort(newestFirst).slice(0, 20).map((e) => `${e.id}@${new Date(e.occurredAt).toISOString()}`),
  };
}

/** The exact sum of decimal strings, at the largest scale among them (as PostgreSQL's numeric sum). */
export function decimalSum(amounts: readonly string[]): string {
  const scale = Math.max(0, ...amounts.map((a) => a.split('.')[1]?.length ?? 0));
  let total = 0n;
  for (const a of amounts) {
    const negative = a.startsWith('-');
    const [int = '0', frac = ''] = a.replace('-', '').split('.');
    const v = BigInt(int + frac.padEnd(scale, '0'));
    total += negative ? -v : v;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const s = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${s}` : s;
}
