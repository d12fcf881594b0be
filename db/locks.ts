// The advisory locks db/ takes, in one place so that two of them can never share a key.
// Every key is the pair (KEYFLOW, n): the two-int form of pg_advisory_lock.

/** The first half of every keyflow advisory-lock key ('kf' in ASCII). */
export const LOCK_NAMESPACE = 0x6b66;

/** Held (session-level) while migrations are checked and applied. */
export const LOCK_MIGRATE = 1;

/** Held (transaction-level) while daily partitions are created or dropped. */
export const LOCK_PARTITIONS = 2;

/** Held (session-level, tried) for one run of the maintenance job: one process at a time. */
export const LOCK_MAINTENANCE = 3;

/**
 * Held (transaction-level) by the compaction of a day's user activity and by an erasure, so
 * that neither reads what the other is about to change (db/activity-days.ts).
 */
export const LOCK_ACTIVITY = 4;
