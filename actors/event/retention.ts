// The retention window of DESIGN.md (Guarantees: accepted means kept). Rule: the edge and
// the workers decide with this one function whether an event is too old to keep, and it is
// the very cutoff the store's maintenance drops by — whole UTC days before today — so an
// event that is accepted is never deleted by the next maintenance run. The same holds for
// the other end (KEYFLOW_MAX_FUTURE): one function decides for the edge and the workers.

const DAY_MS = 86_400_000;

/**
 * The earliest occurredAt (epoch ms) kept at `nowMs` with `retentionDays` of retention:
 * the start of the UTC day `retentionDays` days before today.
 *
 * @example
 * retentionCutoffMs(Date.parse('2026-11-20T12:00:00Z'), 30); // 2026-10-21T00:00:00Z
 */
export function retentionCutoffMs(nowMs: number, retentionDays: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS - retentionDays * DAY_MS;
}

/** The field error of an event older than the window. */
export function expiredMessage(cutoffMs: number, retentionDays: number): string {
  return `is older than the retention window: keyflow keeps ${retentionDays} whole UTC days (KEYFLOW_RETENTION_DAYS), so occurredAt must be at or after ${new Date(cutoffMs).toISOString()}`;
}

/**
 * The latest occurredAt (epoch ms) taken at `nowMs` with `maxFutureMs` of allowed clock skew
 * (KEYFLOW_MAX_FUTURE): an event further ahead is refused at the edge and dead-lettered
 * (`future`) by the workers, so that a skewed or hostile clock cannot count as live forever.
 *
 * @example
 * futureCutoffMs(Date.parse('2026-11-20T12:00:00Z'), 86_400_000); // 2026-11-21T12:00:00Z
 */
export function futureCutoffMs(nowMs: number, maxFutureMs: number): number {
  return nowMs + maxFutureMs;
}

/** The field error of an event further ahead than the limit. */
export function futureMessage(cutoffMs: number, maxFutureMs: number): string {
  return `is more than ${durationText(maxFutureMs)} ahead of the server's clock (KEYFLOW_MAX_FUTURE=${durationText(maxFutureMs)}), so occurredAt must be at or before ${new Date(cutoffMs).toISOString()}`;
}

/** `86400000` → `1d`, `5400000` → `90m`: the largest unit that divides it. */
function durationText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
