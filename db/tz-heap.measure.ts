// Measures what 100,000 distinct spellings of one zone name retain in the heap: each spelling
// is validated the way the time-series route does and one instant is printed in it. Run with
// --expose-gc (db/tz-cache.test.ts does); prints one JSON line. An optional argument is the
// path of another db/tz.ts to measure (a version without canonicalTimeZone uses the spelling
// as sent, as the route did before).
//   node --expose-gc --import tsx db/tz-heap.measure.ts [path/to/tz.ts] [spellings]
import { pathToFileURL } from 'node:url';

type TzModule = {
  canonicalTimeZone?: (s: string) => string | undefined;
  isTimeZone: (s: string) => boolean;
  formatInZone: (tz: string, ms: number) => string;
};

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run node with --expose-gc');
const path = process.argv[2] ?? new URL('./tz.ts', import.meta.url).pathname;
const count = Number(process.argv[3] ?? 100_000);
const tz = (await import(pathToFileURL(path).href)) as TzModule;
const BASE = 'America/Argentina/Buenos_Aires';
const letters = [...BASE].map((ch, i) => ({ ch, i })).filter((x) => /[a-z]/i.test(x.ch));

/** The n-th case variant of BASE: bit k of n flips the case of the k-th letter. */
function spelling(n: number): string {
  const out = [...BASE];
  for (let k = 0; k < letters.length; k++) {
    if (((n / 2 ** k) & 1) === 1) {
      const { ch, i } = letters[k]!;
      out[i] = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
    }
  }
  return out.join('');
}

const use = (s: string, ms: number): string => {
  const name = tz.canonicalTimeZone !== undefined ? tz.canonicalTimeZone(s) : tz.isTimeZone(s) ? s : undefined;
  if (name === undefined) throw new Error(`refused ${s}`);
  return tz.formatInZone(name, ms);
};
// Warm up with the plain spelling, so the baseline holds what one zone costs anyway.
use(BASE, 0);
const settle = (): NodeJS.MemoryUsage => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
};
const before = settle();
const seen = new Set<string>();
for (let n = 1; n <= count; n++) {
  const s = spelling(n);
  seen.add(s);
  use(s, Date.UTC(2026, 0, 1) + n * 60_000);
}
const distinct = seen.size;
seen.clear();
const after = settle();
process.stdout.write(`${JSON.stringify({
  spellings: distinct,
  heapGrowthBytes: after.heapUsed - before.heapUsed,
  rssGrowthBytes: after.rss - before.rss,
  heapBefore: before.heapUsed,
  heapAfter: after.heapUsed,
})}\n`);
