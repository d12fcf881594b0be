// Realistic, reproducible batches of events for db/ tests and the flush benchmark: several
// sources and types, some with revenue, demographics and properties. Rule: the same seed
// gives the same events, so a failing test or a benchmark run can be repeated exactly.
import type { KeyflowEvent } from '../actors/index.ts';
import { prng } from '../test/support/events.ts';

const SOURCES = ['facebook', 'google', 'tiktok', 'email', 'direct'] as const;
const TYPES = ['ad.view', 'ad.click', 'page.view', 'signup', 'checkout.start', 'checkout.complete'] as const;
const CURRENCIES = ['USD', 'EUR', 'GBP'] as const;
const CITIES = [['US', 'New York'], ['US', 'Austin'], ['DE', 'Berlin'], ['GB', 'London']] as const;

export type SampleOptions = {
  /** Seeds the generator and prefixes every id. Default 1. */
  readonly seed?: number;
  /** Epoch ms of the earliest event. Default 2026-11-20T12:00:00Z. */
  readonly fromMs?: number;
  /** The events spread evenly-at-random over this many ms after fromMs. Default 10 minutes. */
  readonly spreadMs?: number;
};

/**
 * `n` events with unique ids.
 *
 * @example
 * const events = sampleEvents(2000, { seed: 7 });
 */
export function sampleEvents(n: number, opts: SampleOptions = {}): KeyflowEvent[] {
  const { seed = 1, fromMs = Date.UTC(2026, 10, 20, 12), spreadMs = 600_000 } = opts;
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const type = pick(TYPES);
    const user = Math.floor(rand() * 500);
    const e: KeyflowEvent = {
      id: `s${seed}-${i}-${Math.floor(rand() * 2 ** 32).toString(36)}`,
      type,
      source: pick(SOURCES),
      occurredAt: fromMs + Math.floor(rand() * spreadMs),
      userId: `u-${user}`,
      sessionId: `sess-${user}-${Math.floor(rand() * 3)}`,
    };
    if (type === 'ad.view' || type === 'ad.click') e.funnelStage = 'top';
    if (type === 'checkout.complete') {
      e.funnelStage = 'bottom';
      e.revenue = { amount: Math.round(rand() * 50_000) / 100, currency: pick(CURRENCIES) };
    }
    if (rand() < 0.6) {
      const [country, city] = pick(CITIES);
      e.user = { age: 18 + Math.floor(rand() * 60), gender: pick(['female', 'male', 'other']), country, city };
    }
    if (rand() < 0.7) e.properties = { page: `/p/${Math.floor(rand() * 40)}`, ref: pick(['newsfeed', 'search', 'story']), scroll: Math.round(rand() * 100) / 100, returning: rand() < 0.5 };
    return e;
  });
}
