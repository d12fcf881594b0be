// The thread that watches PostgreSQL commit: it reads pg_current_snapshot() every few
// milliseconds and keeps each snapshot that differs from the one before, with the time it
// was read. It runs off the main thread so that the bench's own sending never delays a poll.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { connectDb } from '../db/index.ts';

if (isMainThread || parentPort === null) throw new Error('bench/visibility-worker.ts runs in a worker thread only');
const port = parentPort;
const { url, intervalMs } = workerData as { url: string; intervalMs: number };

const sql = connectDb(url, { max: 1 });
let stopping = false;
port.on('message', (m: unknown) => {
  if (m === 'stop') stopping = true;
});

const snapshots: [number, string][] = [];
let polls = 0;
let last = '';
const startedAt = Date.now();
try {
  await sql`select 1`;
  port.postMessage({ type: 'ready' });
  while (!stopping) {
    const [row] = await sql<{ s: string }[]>`select pg_current_snapshot()::text as s`;
    // Stamped after the answer: a transaction is counted visible no earlier than we could know it.
    const t = Date.now();
    polls++;
    if (row !== undefined && row.s !== last) {
      snapshots.push([t, row.s]);
      last = row.s;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  port.postMessage({ type: 'done', snapshots, polls, ms: Date.now() - startedAt });
} catch (e) {
  port.postMessage({ type: 'error', message: (e as Error).message });
} finally {
  await sql.end({ timeout: 1 });
}
