// Baseline (b): the fastest way PostgreSQL takes the run's rows — one COPY FROM STDIN into a
// table with the same columns, defaults and indexes as `events`, but not partitioned
// (`LIKE events INCLUDING DEFAULTS INCLUDING INDEXES`), as db/flush-bench.ts does.
// Rule: the rows are exactly the ones keyflow stored, read back with COPY TO before the
// clock starts, so only the server's ingest is timed — no client-side encoding.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Sql } from '../../db/index.ts';

export const EVENT_COLUMNS = 'id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount, revenue_currency, user_age, user_gender, user_country, user_city, properties, partition_key';

export type RawPostgresResult = {
  readonly rowsPerSec: number;
  readonly rows: number;
  readonly durationMs: number;
  readonly bytes: number;
  readonly table: string;
};

/**
 * COPY up to `maxRows` of the stored events into `events_copy`. `reader` is a pool of its own
 * that this ends: with postgres.js 3.4.9, a query sent to the pool that just streamed a
 * COPY TO (with backpressure) can wait forever, so the read happens elsewhere.
 */
export async function rawPostgres(sql: Sql, reader: Sql, maxRows: number): Promise<RawPostgresResult> {
  await sql`drop table if exists events_copy`;
  await sql`create table events_copy (like events including defaults including indexes)`;
  const chunks: Buffer[] = [];
  let bytes = 0;
  const out = await reader.unsafe(`copy (select ${EVENT_COLUMNS} from events limit ${Math.floor(maxRows)}) to stdout`).readable();
  for await (const chunk of out) {
    const b = chunk as Buffer;
    chunks.push(b);
    bytes += b.length;
  }
  await reader.end({ timeout: 1 });
  const t0 = performance.now();
  const writer: Writable = await sql.unsafe(`copy events_copy (${EVENT_COLUMNS}) from stdin`).writable();
  for (const c of chunks) if (!writer.write(c)) await once(writer, 'drain');
  writer.end();
  await finished(writer);
  const durationMs = Math.max(1, performance.now() - t0);
  const [row] = await sql<{ n: string }[]>`select count(*)::text as n from events_copy`;
  const rows = Number(row?.n ?? 0);
  return { rowsPerSec: (rows / durationMs) * 1000, rows, durationMs, bytes, table: 'events_copy (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES; not partitioned)' };
}
