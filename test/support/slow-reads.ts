// Reports made slow for real, for the bounded-reads test and bench: a session of the test holds
// an exclusive lock on every table a report reads, so the reports keyflow sends wait inside
// PostgreSQL, each holding a connection of keyflow's read pool, until the lock goes or their
// statement timeout ends them. Nothing is imitated: the waits are PostgreSQL's own.
import type { Sql } from '../../db/index.ts';

const REPORT_TABLES = 'events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day';

/** Lock every table a report reads (the database must be migrated); the answer unlocks. */
export async function holdReportTables(sql: Sql): Promise<() => Promise<void>> {
  const conn = await sql.reserve();
  await conn`begin`;
  await conn.unsafe(`lock table ${REPORT_TABLES} in access exclusive mode`);
  return async () => {
    await conn`rollback`;
    conn.release();
  };
}

/** Statements of sessions named `app` waiting on a lock in `sql`'s database now. */
export async function waitingOnLocks(sql: Sql, app = 'keyflow-reads'): Promise<number> {
  const [r] = await sql<{ n: number }[]>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and application_name = ${app} and state = 'active' and wait_event_type = 'Lock'`;
  return r?.n ?? 0;
}

/** Poll until `probe` answers `want`; throws with the last answer past the deadline. */
export async function untilCount(what: string, probe: () => Promise<number>, want: number, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  let last = -1;
  while (Date.now() < end) {
    last = await probe();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: wanted ${want}, last saw ${last}`);
}

export type ReportAnswer = { readonly status: number; readonly retryAfter: string | null; readonly code?: string };

/** Start `n` reports (events, revenue, demographics, time series in turn) against `baseUrl`. */
export function startReports(baseUrl: string, n: number, headers: Record<string, string> = {}): Promise<ReportAnswer>[] {
  const paths = ['/v1/reports/events?groupBy=type,source', '/v1/reports/revenue?groupBy=source', '/v1/reports/demographics?by=country', '/v1/analytics/timeseries?interval=1h'];
  return Array.from({ length: n }, async (_, i) => {
    const res = await fetch(`${baseUrl}${paths[i % paths.length]!}`, { headers });
    const body = (await res.json()) as { error?: { code?: string } };
    return { status: res.status, retryAfter: res.headers.get('retry-after'), ...(body.error?.code === undefined ? {} : { code: body.error.code }) };
  });
}
