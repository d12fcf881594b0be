// The one place a PostgreSQL pool is made. Rule: every keyflow connection behaves the same —
// a small bounded pool, sessions in UTC (so minute and day boundaries are UTC boundaries),
// `undefined` sent as NULL, server NOTICEs kept out of the logs, timestamps read back
// exactly (any year) — so that no caller can quietly get a different clock, a different
// NULL or a different instant.
import postgres from 'postgres';
import { parsePgTimestamp } from './timestamps.ts';

/** A postgres.js pool (or transaction, or reserved connection) as the rest of db/ uses it. */
export type Sql = postgres.Sql;

/** The handle a `sql.begin(async (tx) => …)` callback receives. */
export type Tx = postgres.TransactionSql;

export type ConnectOptions = {
  /** Largest number of open connections. Default 4: a flush is one statement at a time. */
  readonly max?: number;
  /** Seconds an unused connection stays open. Default 30. */
  readonly idleTimeoutS?: number;
  /** Seconds to wait for a connection. Default 10. */
  readonly connectTimeoutS?: number;
  /** Called with each server NOTICE. Default: ignored. */
  readonly onnotice?: (notice: postgres.Notice) => void;
  /**
   * PostgreSQL ends any statement of this pool that runs longer (error 57014). Default: none.
   * The edge's read pool has one (KEYFLOW_QUERY_TIMEOUT_MS); flushes and erasures never do.
   */
  readonly statementTimeoutMs?: number;
  /** work_mem of each connection, in MiB; unset = the server's. */
  readonly workMemMb?: number;
  /**
   * Turn PostgreSQL's Memoize node off. The activity sets' `unnest` is estimated at 10 rows
   * (PostgreSQL 15 has no statistics for it), so the planner memoizes every set array it
   * unnests: never a hit, and copying them cost ~0.5 s of a 30-day series at 10M events.
   */
  readonly noMemoize?: boolean;
  /** application_name of the sessions, to tell the pools apart in pg_stat_activity. Default 'keyflow'. */
  readonly applicationName?: string;
};

/**
 * Open a pool to the database at `url`. Connections open lazily, on the first query.
 *
 * @example
 * const sql = connectDb(process.env.DATABASE_URL ?? 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow');
 * await sql`select 1`;
 * await sql.end();
 */
export function connectDb(url: string, opts: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 4,
    idle_timeout: opts.idleTimeoutS ?? 30,
    connect_timeout: opts.connectTimeoutS ?? 10,
    prepare: true,
    transform: { undefined: null },
    // Instants round-trip exactly, year 0001 included (see timestamps.ts).
    types: {
      date: {
        to: 1184,
        from: [1082, 1114, 1184],
        serialize: (x: Date | string | number) => (x instanceof Date ? x : new Date(x)).toISOString(),
        parse: parsePgTimestamp,
      },
    },
    onnotice: opts.onnotice ?? ignore,
    // JIT off: a report over many daily partitions is estimated expensive (a nested loop over
    // every partition) though it touches few rows, and JIT then spends seconds compiling for a
    // query that runs in milliseconds (measured: time series 1m over the last hour, 4 s → 0.16 s).
    connection: {
      application_name: opts.applicationName ?? 'keyflow',
      TimeZone: 'UTC',
      jit: 'off',
      ...(opts.statementTimeoutMs === undefined ? {} : { statement_timeout: opts.statementTimeoutMs }),
      ...(opts.workMemMb === undefined ? {} : { work_mem: `${opts.workMemMb}MB` }),
      ...(opts.noMemoize === true ? { enable_memoize: 'off' } : {}),
    },
  });
}

function ignore(): void {}
