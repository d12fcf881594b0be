// Realistic, reproducible events for the bench: sources, types along a funnel, revenue,
// per-user demographics, properties, and users drawn from a Zipf law (or one hot key).
//
// Rule: the same seed gives the same ids, keys and payloads, and every payload carries
// `properties.sentAt` (epoch ms) as its LAST field, written at the moment the message is
// handed to Kafka or HTTP: a template is the JSON split around that number, so stamping a
// message is one string concatenation and costs nothing on the hot path.
import type { EventInput } from '../actors/index.ts';
import { prng } from '../test/support/events.ts';

/** A message as Kafka and HTTP take it: partition key and JSON value. */
export type Message = { readonly key: string; readonly value: string };

/** An event without its send time: `head + sentAt + tail` is its JSON. */
export type Template = { readonly index: number; readonly key: string; readonly head: string; readonly tail: string };

export type GeneratorOptions = {
  /** Seeds every choice. */
  readonly seed: number;
  /** Ids are `${idPrefix}${index}`. */
  readonly idPrefix: string;
  /** Distinct users the Zipf law draws from. */
  readonly users: number;
  /** Zipf exponent s: user k (1-based) is drawn with weight k^-s; 0 is uniform. */
  readonly zipf: number;
  /** Share of events that carry the one hot key `u-hot` (0 for none). */
  readonly hotKeyShare: number;
  /** The clock occurredAt is taken from (events occur up to a minute before generation). */
  readonly now?: () => number;
};

export const HOT_KEY = 'u-hot';

const weighted = <T>(pairs: readonly (readonly [T, number])[]) => pairs;
const SOURCES = weighted([['facebook', 30], ['google', 25], ['tiktok', 15], ['instagram', 10], ['email', 10], ['direct', 5], ['linkedin', 5]] as const);
// Funnel: many views, fewer clicks, few purchases; [type, weight, funnel stage].
const TYPES = [
  ['ad.view', 38, 'top'], ['page.view', 20, 'top'], ['ad.click', 12, 'top'], ['video.view', 10, 'top'],
  ['page.like', 6, undefined], ['signup', 4, 'bottom'], ['form.submission', 3, 'bottom'], ['cart.add', 3, 'bottom'],
  ['checkout.start', 2, 'bottom'], ['checkout.complete', 2, 'bottom'],
] as const;
const CURRENCIES = weighted([['USD', 60], ['EUR', 25], ['GBP', 15]] as const);
const PLACES = [['US', 'New York'], ['US', 'Austin'], ['US', 'San Francisco'], ['DE', 'Berlin'], ['DE', 'Munich'], ['GB', 'London'], ['BR', 'São Paulo'], ['IN', 'Bengaluru'], ['FR', 'Paris'], ['JP', 'Tokyo']] as const;
const GENDERS = ['female', 'male', 'other'] as const;
const DEVICES = ['ios', 'android', 'desktop', 'tablet'] as const;
const REFS = ['newsfeed', 'search', 'story', 'inbox', 'banner'] as const;

/** Draws 0-based ranks from a Zipf law over `n` items by inverting its CDF. */
export class ZipfSampler {
  readonly #cdf: Float64Array;
  readonly #rnd: () => number;

  constructor(n: number, s: number, rnd: () => number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    this.#rnd = rnd;
    this.#cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.#cdf[k] = sum += (k + 1) ** -s;
    for (let k = 0; k < n; k++) this.#cdf[k] = (this.#cdf[k] as number) / sum;
  }

  /** Probability of rank k (0-based). */
  p(k: number): number {
    return (this.#cdf[k] ?? 0) - (k === 0 ? 0 : (this.#cdf[k - 1] ?? 0));
  }

  next(): number {
    const u = this.#rnd();
    let lo = 0;
    let hi = this.#cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

type User = { readonly id: string; readonly age: number; readonly gender: string; readonly country: string; readonly city: string; readonly device: string; readonly known: boolean };

/** Makes event templates in order: template i is always the same for the same options. */
export class EventFactory {
  readonly #o: GeneratorOptions;
  readonly #rnd: () => number;
  readonly #zipf: ZipfSampler;
  readonly #users: User[];
  readonly #hot: User;
  readonly #now: () => number;
  #next = 0;

  constructor(options: GeneratorOptions) {
    this.#o = options;
    this.#rnd = prng(options.seed);
    this.#now = options.now ?? Date.now;
    this.#zipf = new ZipfSampler(options.users, options.zipf, this.#rnd);
    // Demographics belong to the user, not the event: the same user always reports the same.
    const ur = prng(options.seed ^ 0x5bd1e995);
    const user = (id: string): User => {
      const [country, city] = PLACES[Math.floor(ur() * PLACES.length)] as readonly [string, string];
      return { id, age: 16 + Math.floor(ur() * 60), gender: GENDERS[Math.floor(ur() * GENDERS.length)] as string, country, city, device: DEVICES[Math.floor(ur() * DEVICES.length)] as string, known: ur() < 0.7 };
    };
    this.#users = Array.from({ length: options.users }, (_, k) => user(`u-${k}`));
    this.#hot = user(HOT_KEY);
  }

  /** How many templates were made so far. */
  get made(): number {
    return this.#next;
  }

  /** The next template. */
  next(): Template {
    const r = this.#rnd;
    const index = this.#next++;
    const user = this.#o.hotKeyShare > 0 && r() < this.#o.hotKeyShare ? this.#hot : (this.#users[this.#zipf.next()] as User);
    const [type, , stage] = pickWeighted(TYPES, r);
    const e: EventInput = {
      id: `${this.#o.idPrefix}${index}`,
      type,
      source: pickWeighted(SOURCES, r)[0],
      // Producers spell time both ways; keyflow normalizes.
      occurredAt: index % 4 === 0 ? this.#now() - Math.floor(r() * 60_000) : new Date(this.#now() - Math.floor(r() * 60_000)).toISOString(),
      userId: user.id,
      sessionId: `${user.id}-s${Math.floor(r() * 4)}`,
    };
    if (stage !== undefined) e.funnelStage = stage;
    if (type === 'checkout.complete') {
      // Log-normal basket around 40, in cents.
      const amount = Math.round(Math.exp(3.7 + 0.8 * gaussian(r)) * 100) / 100;
      e.revenue = { amount, currency: pickWeighted(CURRENCIES, r)[0] };
    }
    if (user.known) e.user = { age: user.age, gender: user.gender, country: user.country, city: user.city };
    const properties: Record<string, string | number | boolean> = { device: user.device };
    if (type.startsWith('ad.') || r() < 0.2) properties['campaign'] = `cmp-${Math.floor(r() * 40)}`;
    if (type.startsWith('page.') || type.startsWith('checkout.')) properties['page'] = `/p/${Math.floor(r() * 200)}`;
    if (r() < 0.5) properties['ref'] = REFS[Math.floor(r() * REFS.length)] as string;
    if (r() < 0.1) properties['returning'] = true;
    properties['sentAt'] = 0; // last, so that the template splits around it
    e.properties = properties;
    const json = JSON.stringify(e);
    const at = json.lastIndexOf('"sentAt":0');
    return { index, key: user.id, head: json.slice(0, at + 9), tail: json.slice(at + 10) };
  }
}

function pickWeighted<T extends readonly [unknown, number, ...unknown[]]>(pairs: readonly T[], r: () => number): T {
  let total = 0;
  for (const p of pairs) total += p[1];
  let u = r() * total;
  for (const p of pairs) if ((u -= p[1]) < 0) return p;
  return pairs[pairs.length - 1] as T;
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
