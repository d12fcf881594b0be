// Deterministic, realistic test events: several sources and types, funnel stages, revenue
// in two currencies, demographics, a few hundred users — and the exact counts they imply.
import type { EventInput } from '../../actors/index.ts';

const sources = ['facebook', 'tiktok', 'google', 'email'] as const;
const types = ['ad.view', 'ad.click', 'page.like', 'video.view', 'form.submission', 'checkout.complete'] as const;

/** A small seeded PRNG (mulberry32), so a failing run can be replayed exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` events with ids `${prefix}-${i}`, occurring within `spanMs` before `now`.
 *
 * @example
 * const events = makeEvents(1000, { prefix: 'run1', seed: 7 });
 */
export function makeEvents(n: number, opts: { prefix: string; seed?: number; now?: number; spanMs?: number; users?: number }): EventInput[] {
  const rnd = prng(opts.seed ?? 1);
  const now = opts.now ?? Date.now();
  const span = opts.spanMs ?? 10 * 60_000;
  const users = opts.users ?? 300;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: EventInput[] = [];
  for (let i = 0; i < n; i++) {
    const type = pick(types);
    const e: EventInput = {
      id: `${opts.prefix}-${i}`,
      type,
      source: pick(sources),
      occurredAt: i % 2 === 0 ? now - Math.floor(rnd() * span) : new Date(now - Math.floor(rnd() * span)).toISOString(),
      userId: `u-${Math.floor(rnd() * users)}`,
    };
    if (rnd() < 0.6) e.funnelStage = rnd() < 0.5 ? 'top' : 'bottom';
    if (type === 'checkout.complete') e.revenue = { amount: Math.round(rnd() * 10_000) / 100, currency: rnd() < 0.8 ? 'USD' : 'EUR' };
    if (rnd() < 0.5) e.user = { age: 18 + Math.floor(rnd() * 50), gender: pick(['female', 'male', 'other']), country: pick(['US', 'DE', 'BR']) };
    if (rnd() < 0.3) e.properties = { page: `/p/${Math.floor(rnd() * 20)}`, ref: 'newsfeed' };
    out.push(e);
  }
  return out;
}

/** Expected report groups, keyed as `type|source|funnelStage`. */
export function expectedGroups(events: readonly EventInput[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of events) {
    const k = `${e.type}|${e.source}|${e.funnelStage ?? null}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** Split into chunks of `size`. */
export function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
