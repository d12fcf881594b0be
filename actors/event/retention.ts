// The retention window of DESIGN.md (Guarantees: accepted means kept). Rule: the edge and
// the workers decide with this one function whether an event is too old to keep, and it is
// the very cutoff the store's maintenance drops by — whole UTC days before today — so an
// event that is accepted is never deleted by the next maintenance run.

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
