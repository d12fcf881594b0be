// Which rollup level answers which part of a window. Rule: the ranges returned are half-open,
// disjoint, aligned to their level's UTC unit, and together exactly [from, to); each range
// uses the coarsest level that tiles it, so a report reads rows in proportion to the
// buckets it touches (a few per level at each edge, one per day in the middle), never to
// the span or the number of events. `raw` ranges are what only `events` can answer.

/** A half-open time range [from, to). */
export type Range = { readonly from: Date; readonly to: Date };

/** The parts of a window each level answers. */
export type Cover = {
  readonly day: readonly Range[];
  readonly hour: readonly Range[];
  readonly minute: readonly Range[];
  readonly raw: readonly Range[];
};

/** The finest rollup level a table keeps: minute (rollups) or hour (user activity). */
export type CoverOptions = { readonly finest?: 'minute' | 'hour' };

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Split [fromMs, toMs) over the rollup levels. An empty window (from ≥ to) has no parts.
 *
 * @example
 * coverWindow(Date.parse('2026-01-01T23:59:30Z'), Date.parse('2026-01-03T00:01:00Z'));
 * // raw [23:59:30, 00:00), day [Jan 2, Jan 3), minute [Jan 3 00:00, 00:01)
 */
export function coverWindow(fromMs: number, toMs: number, opts: CoverOptions = {}): Cover {
  const cover = { day: [] as Range[], hour: [] as Range[], minute: [] as Range[], raw: [] as Range[] };
  if (!(fromMs < toMs)) return cover;
  const units: ReadonlyArray<[keyof Cover, number]> =
    opts.finest === 'hour' ? [['day', DAY_MS], ['hour', HOUR_MS]] : [['day', DAY_MS], ['hour', HOUR_MS], ['minute', MINUTE_MS]];
  // Peel levels from the coarsest: [lo, hi) is what the current level may still cover.
  const split = (lo: number, hi: number, level: number): void => {
    if (lo >= hi) return;
    const entry = units[level];
    if (entry === undefined) {
      cover.raw.push(range(lo, hi));
      return;
    }
    const [name, unit] = entry;
    const a = ceilTo(lo, unit);
    const b = floorTo(hi, unit);
    if (a >= b) {
      split(lo, hi, level + 1);
      return;
    }
    split(lo, a, level + 1);
    cover[name].push(range(a, b));
    split(b, hi, level + 1);
  };
  split(fromMs, toMs, 0);
  for (const k of ['hour', 'minute', 'raw'] as const) cover[k].sort((x, y) => x.from.getTime() - y.from.getTime());
  return cover;
}

function range(from: number, to: number): Range {
  return { from: new Date(from), to: new Date(to) };
}

// Instants before 1970 are negative: Math.floor/ceil keep the alignment right for them too.
function floorTo(ms: number, unit: number): number {
  return Math.floor(ms / unit) * unit;
}

function ceilTo(ms: number, unit: number): number {
  return Math.ceil(ms / unit) * unit;
}

/**
 * The cover with every day in `openDays` (UTC midnights, ms) taken out of its day ranges and
 * answered by its 24 hours instead: the user activity of a day that is not compacted yet
 * lives only in its hours (migration 0006). Ranges stay disjoint and sorted; the union of
 * the cover is unchanged.
 *
 * @example
 * hoursForOpenDays(coverWindow(Date.parse('2026-01-01'), Date.parse('2026-01-04'), { finest: 'hour' }), new Set([Date.parse('2026-01-02')]));
 * // day [Jan 1, Jan 2) and [Jan 3, Jan 4), hour [Jan 2, Jan 3)
 */
export function hoursForOpenDays(cover: Cover, openDays: ReadonlySet<number>): Cover {
  if (openDays.size === 0 || cover.day.length === 0) return cover;
  const open = [...openDays].sort((a, b) => a - b);
  const day: Range[] = [];
  const hour: Range[] = [...cover.hour];
  for (const r of cover.day) {
    let lo = r.from.getTime();
    const hi = r.to.getTime();
    for (const d of open) {
      if (d < lo || d >= hi) continue;
      if (d > lo) day.push(range(lo, d));
      hour.push(range(d, d + DAY_MS));
      lo = d + DAY_MS;
    }
    if (lo < hi) day.push(range(lo, hi));
  }
  hour.sort((x, y) => x.from.getTime() - y.from.getTime());
  return { ...cover, day, hour };
}
