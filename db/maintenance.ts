// The hourly maintenance of the store (run at start-up too). Rule: every event lands in a
// daily partition or, outside them, in events_default, and maintenance never loses or
// double-counts one: partitions exist `aheadDays` ahead; a late event's day gets its
// partition (if that day is still within retention) and its rows move there; a far-future
// event waits in events_default until its day's partition is created ahead; whole days older
// than the events retention are dropped as whole partitions (and deleted from
// events_default); the rollups (every level) and the user activity live longer, for their
// own retention, and are deleted by bucket. Moving rows never touches the rollups, so reports are unchanged by maintenance
// except by retention. DDL that would have to queue behind other transactions' locks gives
// up after `lockTimeoutMs` and is retried by the next run, so maintenance never stalls the
// flushes waiting behind it.
import type { Sql, Tx } from './connect.ts';
import { LOCK_MAINTENANCE, LOCK_NAMESPACE, LOCK_PARTITIONS } from './locks.ts';
import { compactActivityDays } from './activity-days.ts';
import { compactActivitySets } from './activity-sets.ts';
import { createDayPartition, ensurePartitions } from './partitions.ts';

const DAY_MS = 86_400_000;
const PARTITION = /^events_p(\d{4})(\d{2})(\d{2})$/;

export type MaintenanceOptions = {
  /** Days after today (UTC) whose partitions must exist. */
  readonly aheadDays: number;
  /** Whole UTC days of events kept before today; older days are dropped. */
  readonly retentionDays: number;
  /** Whole UTC days of minute rollups kept before today; never less than retentionDays. */
  readonly rollupRetentionDays: number;
  /** Default: the current time. */
  readonly now?: Date;
  /** How long one DDL statement may wait for a lock before it is left to the next run. Default 5000. */
  readonly lockTimeoutMs?: number;
};

export type MaintenanceResult = {
  /** False when another process was running maintenance; nothing else was done. */
  readonly ran: boolean;
  /** Partitions created: ahead of time, and for late events' days. */
  readonly created: string[];
  /** Rows moved out of events_default into the partitions created. */
  readonly movedRows: number;
  /** Partitions dropped because their day is older than the events retention. */
  readonly dropped: string[];
  /** events_default rows deleted because they are older than the events retention. */
  readonly expiredDefaultRows: number;
  /** Rollup and user-activity rows (every level) deleted because they are older than the rollup retention. */
  readonly expiredRollupRows: number;
  /** Days whose user activity was compacted from its hours (db/activity-days.ts), YYYY-MM-DD. */
  readonly compactedDays: string[];
  /** Rows left in events_default (events beyond aheadDays, mostly): the metric to watch. */
  readonly defaultRows: number;
  /** Steps left to the next run (a lock not granted in time, a concurrent writer), with why. */
  readonly deferred: string[];
};

/**
 * Run the maintenance job once. Safe from several processes at once (one runs, the others
 * return `ran: false`).
 *
 * @example
 * const r = await runMaintenance(sql, { aheadDays: 7, retentionDays: 30, rollupRetentionDays: 400 });
 * metrics.eventsDefaultPartitionRows.set(r.defaultRows);
 */
export async function runMaintenance(sql: Sql, opts: MaintenanceOptions): Promise<MaintenanceResult> {
  const { aheadDays, retentionDays, rollupRetentionDays, now = new Date(), lockTimeoutMs = 5_000 } = opts;
  for (const [name, v] of Object.entries({ aheadDays, retentionDays, rollupRetentionDays })) {
    if (!Number.isInteger(v) || v < (name === 'aheadDays' ? 0 : 1)) throw new RangeError(`${name} must be a ${name === 'aheadDays' ? 'non-negative' : 'positive'} integer (got ${v})`);
  }
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const eventsCutoff = today - retentionDays * DAY_MS;
  // Reports read whole minutes from the rollups: they must cover every day events cover.
  const rollupsCutoff = today - Math.max(rollupRetentionDays, retentionDays) * DAY_MS;

  const conn = await sql.reserve();
  try {
    const [lock] = await conn<[{ got: boolean }]>`select pg_try_advisory_lock(${LOCK_NAMESPACE}::int, ${LOCK_MAINTENANCE}::int) as got`;
    if (!lock.got) return { ran: false, created: [], movedRows: 0, dropped: [], expiredDefaultRows: 0, expiredRollupRows: 0, compactedDays: [], defaultRows: await countDefault(sql), deferred: [] };
    try {
      const deferred: string[] = [];
      const created: string[] = [];
      let movedRows = 0;
      try {
        const ahead = await ensurePartitions(sql, { aheadDays, now, lockTimeoutMs });
        created.push(...ahead.created);
        movedRows += ahead.movedRows;
      } catch (e) {
        // Until they exist, those days' events wait in events_default; nothing is lost.
        deferred.push(`create the partitions ahead: ${(e as Error).message}`);
      }

      // Late events: their days, still within retention, get partitions (which adopt them).
      const lateDays = await sql<{ day: Date }[]>`
        select distinct date_trunc('day', occurred_at, 'UTC') as day from events_default
        where occurred_at >= ${new Date(eventsCutoff)} and occurred_at < ${new Date(today + (aheadDays + 1) * DAY_MS)}
        order by 1`;
      for (const { day } of lateDays) {
        try {
          const moved = await createDayPartition(sql, day.getTime(), { lockTimeoutMs });
          if (moved === undefined) continue;
          created.push(`events_p${day.toISOString().slice(0, 10).replaceAll('-', '')}`);
          movedRows += moved;
        } catch (e) {
          deferred.push(`create the partition of ${day.toISOString().slice(0, 10)}: ${(e as Error).message}`);
        }
      }

      // Yesterday's (and any older open day's) user activity, from its hours.
      const compaction = await compactActivityDays(sql, { aheadDays, now, lockTimeoutMs });
      deferred.push(...compaction.deferred);
      // Every closed hour's activity-set fragments, merged into one row per key.
      try {
        await compactActivitySets(sql, { now });
      } catch (e) {
        deferred.push(`merge the activity sets: ${(e as Error).message}`);
      }

      const dropped: string[] = [];
      for (const name of await partitionsEndingBy(sql, eventsCutoff)) {
        try {
          await withLockTimeout(sql, lockTimeoutMs, async (tx) => {
            await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${LOCK_PARTITIONS}::int)`;
            // The name comes from the catalog and matched PARTITION; DDL takes no parameters.
            await tx.unsafe(`drop table if exists ${name}`);
          });
          dropped.push(name);
        } catch (e) {
          deferred.push(`drop ${name}: ${(e as Error).message}`);
        }
      }

      const expiredDefault = await sql`delete from events_default where occurred_at < ${new Date(eventsCutoff)}`;
      // Every rollup level and the user activity share the rollup retention. A level's bucket
      // is its start: an hour or day that began before the cutoff goes whole (the cutoff is a
      // whole day, so no level is cut in two).
      let expiredRollupRows = 0;
      for (const table of ROLLUP_TABLES) {
        const expired = await sql`delete from ${sql(table)} where bucket < ${new Date(rollupsCutoff)}`;
        expiredRollupRows += expired.count;
      }
      await sql`delete from activity_days where day < ${new Date(rollupsCutoff)}`;
      return {
        ran: true,
        created,
        movedRows,
        dropped,
        expiredDefaultRows: expiredDefault.count,
        expiredRollupRows,
        compactedDays: compaction.compacted,
        defaultRows: await countDefault(sql),
        deferred,
      };
    } finally {
      await conn`select pg_advisory_unlock(${LOCK_NAMESPACE}::int, ${LOCK_MAINTENANCE}::int)`.catch(() => undefined);
    }
  } finally {
    conn.release();
  }
}

/** The tables that keep aggregates for the rollup retention (db/migrations/0003). */
const ROLLUP_TABLES = ['rollups_minute', 'rollups_hour', 'rollups_day', 'activity_sets_hour', 'activity_sets_day'] as const;

/** Daily partitions whose whole day ends at or before `cutoffMs`, oldest first. */
async function partitionsEndingBy(sql: Sql, cutoffMs: number): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'events'::regclass order by 1`;
  return rows
    .map((r) => r.name)
    .filter((name) => {
      const m = PARTITION.exec(name);
      return m !== null && Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + DAY_MS <= cutoffMs;
    });
}

async function countDefault(sql: Sql): Promise<number> {
  const [row] = await sql<[{ n: number }]>`select count(*)::int as n from events_default`;
  return row.n;
}

/** Run `fn` in a transaction whose lock waits give up after `ms` (SQLSTATE 55P03). */
async function withLockTimeout(sql: Sql, ms: number, fn: (tx: Tx) => Promise<void>): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`set local lock_timeout = ${Math.max(1, Math.floor(ms))}`);
    await fn(tx);
  });
}
