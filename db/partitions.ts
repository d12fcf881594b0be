// Daily partitions of `events`. Rule: the partitions for the days around now exist before
// events for them arrive, creating them is idempotent and safe from several processes at
// once, and no row is ever lost or left behind in events_default when its day's partition
// is created later (those rows move into the new partition in the same transaction).
import type { Sql } from './connect.ts';
import { LOCK_NAMESPACE, LOCK_PARTITIONS } from './locks.ts';

const DAY_MS = 86_400_000;

export type EnsurePartitionsOptions = {
  /** Days after today (UTC) to create. */
  readonly aheadDays: number;
  /** Days before today (UTC) to create. Default 1. */
  readonly behindDays?: number;
  /** Default: the current time. */
  readonly now?: Date;
  /** When set, creating a partition gives up (SQLSTATE 55P03) rather than wait longer for its locks. */
  readonly lockTimeoutMs?: number;
};

export type EnsurePartitionsResult = {
  /** Partitions this call created, e.g. ['events_p20261120']. */
  readonly created: string[];
  /** Rows moved out of events_default into the partitions created. */
  readonly movedRows: number;
};

/**
 * Create the daily partitions events_pYYYYMMDD for [today − behindDays, today + aheadDays].
 *
 * @example
 * await ensurePartitions(sql, { aheadDays: 7 }); // run at start-up and then hourly
 */
export async function ensurePartitions(sql: Sql, opts: EnsurePartitionsOptions): Promise<EnsurePartitionsResult> {
  const { aheadDays, behindDays = 1, now = new Date(), lockTimeoutMs } = opts;
  if (!Number.isInteger(aheadDays) || aheadDays < 0 || !Number.isInteger(behindDays) || behindDays < 0) {
    throw new RangeError(`aheadDays and behindDays must be non-negative integers (got ${aheadDays}, ${behindDays})`);
  }
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const days: number[] = [];
  for (let d = -behindDays; d <= aheadDays; d++) days.push(today + d * DAY_MS);

  const names = days.map(partitionName);
  const existing = new Set(
    (await sql<{ name: string }[]>`
      select relname as name from pg_class where relname = any(${names}::text[]) and relnamespace = current_schema()::regnamespace`
    ).map((r) => r.name),
  );
  const created: string[] = [];
  let movedRows = 0;
  for (const day of days) {
    const name = partitionName(day);
    if (existing.has(name)) continue;
    const moved = await createPartition(sql, name, new Date(day), new Date(day + DAY_MS), lockTimeoutMs);
    if (moved !== undefined) {
      created.push(name);
      movedRows += moved;
    }
  }
  return { created, movedRows };
}

/**
 * Create the partition of one UTC day (`dayStartMs` is its midnight), moving that day's rows
 * out of events_default. Resolves to the rows moved, or undefined when it existed already.
 *
 * @example
 * await createDayPartition(sql, Date.UTC(2026, 10, 3)); // events_p20261103
 */
export async function createDayPartition(sql: Sql, dayStartMs: number, opts: { readonly lockTimeoutMs?: number } = {}): Promise<number | undefined> {
  if (dayStartMs % DAY_MS !== 0) throw new RangeError(`not a UTC midnight: ${new Date(dayStartMs).toISOString()}`);
  const name = partitionName(dayStartMs);
  const [found] = await sql`select 1 from pg_class where relname = ${name} and relnamespace = current_schema()::regnamespace`;
  if (found !== undefined) return undefined;
  return createPartition(sql, name, new Date(dayStartMs), new Date(dayStartMs + DAY_MS), opts.lockTimeoutMs);
}

/** The partition that holds the UTC day of `at`: events_pYYYYMMDD. */
export function partitionName(at: Date | number): string {
  return `events_p${new Date(at).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** Creates one partition; undefined when another process made it first. */
async function createPartition(sql: Sql, name: string, from: Date, to: Date, lockTimeoutMs?: number): Promise<number | undefined> {
  return sql.begin(async (tx) => {
    // Give up rather than queue behind a long transaction (the flushes would queue behind us).
    if (lockTimeoutMs !== undefined) await tx.unsafe(`set local lock_timeout = ${Math.max(1, Math.floor(lockTimeoutMs))}`);
    // Serializes creators; the check below then sees what a concurrent one committed.
    await tx`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, ${LOCK_PARTITIONS}::int)`;
    // A query on pg_class, not to_regclass(): the catalog cache may not have seen the other's commit yet.
    const [found] = await tx`select 1 from pg_class where relname = ${name} and relnamespace = current_schema()::regnamespace`;
    if (found !== undefined) return undefined;
    // The new partition's bounds must not match rows in the default partition, or CREATE fails:
    // park them in a temporary table, create the partition, and put them back through the parent.
    const [stray] = await tx`select 1 from events_default where occurred_at >= ${from} and occurred_at < ${to} limit 1`;
    let moved = 0;
    if (stray !== undefined) {
      await tx.unsafe('create temporary table keyflow_moved (like events) on commit drop');
      const r = await tx`
        with moved as (delete from events_default where occurred_at >= ${from} and occurred_at < ${to} returning *)
        insert into keyflow_moved select * from moved`;
      moved = r.count;
    }
    // DDL takes no parameters; name and bounds are built here from integers, never from input.
    await tx.unsafe(
      `create table if not exists ${name} partition of events for values from ('${from.toISOString()}') to ('${to.toISOString()}')`,
    );
    if (moved > 0) await tx.unsafe('insert into events select * from keyflow_moved');
    return moved;
  });
}
