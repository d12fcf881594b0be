// What the store holds, for exactness checks.
import type { Sql } from '../../db/index.ts';

/** Rows in events, and the sum of events over the rollups. */
export async function storedCounts(sql: Sql): Promise<{ rows: number; rolledUp: number }> {
  const [r] = await sql<[{ rows: number; rolled: number }]>`
    select (select count(*)::int from events) as rows, (select coalesce(sum(events), 0)::int from rollups_minute) as rolled`;
  return { rows: r.rows, rolledUp: r.rolled };
}
