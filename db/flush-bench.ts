// How fast the flush transaction is next to the fastest way PostgreSQL takes rows: COPY of the
// same rows into a plain table with the same columns and indexes. Rule it watches: a flush of
// 2,000 events should cost at most twice a raw COPY (flush ≥ 50% of COPY's throughput).
//
//   node --import tsx db/flush-bench.ts [rounds=20] [events=2000] [spreadMs=3600000]
//
// spreadMs is how far apart the events of one batch occur: an hour (the default, the worst
// case) gives ~1,300 distinct minute-rollup rows per 2,000 events; a live stream's batch
// spans seconds and touches far fewer.
//
// Uses a fresh database on DATABASE_URL (or .env), like the tests, and drops it afterwards.
import { connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import postgres from 'postgres';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import type { Sql } from './connect.ts';
import { flushBatch } from './flush.ts';
import { ensurePartitions } from './partitions.ts';
import { sampleEvents } from './sample-events.ts';
import { createTestDatabase } from './testing.ts';

const rounds = Number(process.argv[2] ?? 20);
const size = Number(process.argv[3] ?? 2000);
const spreadMs = Number(process.argv[4] ?? 3_600_000);
const FROM = Date.UTC(2026, 10, 20, 12);

const db = await createTestDatabase();
try {
  await ensurePartitions(db.sql, { aheadDays: 1, behindDays: 1, now: new Date(FROM) });
  await db.sql`create table events_copy (like events including defaults including indexes)`;
  // The raw COPY runs on a connection of its own with TCP_NODELAY: postgres.js leaves Nagle's
  // algorithm on, and a COPY's closing message then waits for the server's delayed ACK
  // (~40 ms) — which would make raw COPY look twice as slow as it is and flatter the flush.
  const copySql = postgres(db.url, { max: 1, onnotice: () => undefined, ...noDelaySocket() });
  const batch = (seed: number) => sampleEvents(size, { seed, fromMs: FROM, spreadMs });
  const flushMs: number[] = [];
  const copyMs: number[] = [];
  for (let r = -3; r < rounds; r++) {
    // Different events each round (new rows, like production); the first three warm up.
    const a = batch(2 * r + 100);
    const b = batch(2 * r + 101);
    let t = performance.now();
    const res = await flushBatch(db.sql, { events: a, partitionKeys: a.map((e) => partitionKeyOf(e)), deadLetters: [] });
    const tf = performance.now() - t;
    if (res.inserted.length !== size) throw new Error(`flush inserted ${res.inserted.length} of ${size}`);
    t = performance.now();
    await copy(copySql, b);
    const tc = performance.now() - t;
    if (r >= 0) {
      flushMs.push(tf);
      copyMs.push(tc);
    }
  }
  const f = median(flushMs);
  const c = median(copyMs);
  console.log(`${size} events spread over ${spreadMs} ms, ${rounds} rounds (medians)`);
  console.log(`flushBatch : ${f.toFixed(1)} ms  (${Math.round((size / f) * 1000)} events/s)`);
  console.log(`COPY       : ${c.toFixed(1)} ms  (${Math.round((size / c) * 1000)} rows/s)`);
  console.log(`flush throughput = ${((c / f) * 100).toFixed(0)}% of COPY's (goal ≥ 50%)`);
  await copySql.end();
} finally {
  await db.drop();
}

/** postgres.js's `socket` option (absent from its types): a socket it connects through, with Nagle off. */
function noDelaySocket(): object {
  return { socket: ({ host, port }: { host: string[]; port: number[] }) => tcpConnect({ host: host[0] ?? '127.0.0.1', port: port[0] ?? 5432, noDelay: true }) };
}

async function copy(sql: Sql, events: readonly KeyflowEvent[]): Promise<void> {
  const stream: Writable = await sql`
    copy events_copy (id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount,
      revenue_currency, user_age, user_gender, user_country, user_city, properties, partition_key)
    from stdin`.writable();
  const lines = events.map((e) =>
    [
      e.id, new Date(e.occurredAt).toISOString(), e.type, e.source, e.userId, e.sessionId, e.funnelStage,
      e.revenue?.amount, e.revenue?.currency, e.user?.age, e.user?.gender, e.user?.country, e.user?.city,
      e.properties === undefined ? undefined : JSON.stringify(e.properties), partitionKeyOf(e),
    ].map(field).join('\t'),
  );
  stream.end(`${lines.join('\n')}\n`);
  await finished(stream);
}

/** One field in COPY's text format. */
function field(v: string | number | undefined): string {
  if (v === undefined) return '\\N';
  return String(v).replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch] ?? ch);
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
