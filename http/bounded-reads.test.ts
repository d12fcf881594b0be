// Reads are bounded (DESIGN.md *Security*) on a real store: a report that runs past the read
// pool's statement timeout is a 503 in the error body with Retry-After, and a report whose
// client goes away is cancelled in PostgreSQL at once, not left running. Reports are made
// slow for real: another session holds an exclusive lock on the tables they read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { abortable, reportEvents, type Sql } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { untilCount, waitingOnLocks } from '../test/support/slow-reads.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

let db: TestDatabase;
const TABLES = 'events, rollups_minute, rollups_hour, rollups_day';

before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

/** Hold an exclusive lock on every table a report reads until the answer is called. */
async function lockTables(): Promise<() => Promise<void>> {
  const conn = await db.sql.reserve();
  await conn`begin`;
  await conn.unsafe(`lock table ${TABLES} in access exclusive mode`);
  return async () => {
    await conn`rollback`;
    conn.release();
  };
}

const appOver = (reads: Sql) =>
  appWith({ queries: { ...queriesMustNotBeCalled, reportEvents: (q, signal) => abortable(reads, signal, (s) => reportEvents(s, q)) } });

test('a report past the statement timeout is a 503 query_timeout with Retry-After, and the next one answers', async () => {
  const reads = db.connect({ max: 2, statementTimeoutMs: 300, applicationName: 'kf-t-timeout' });
  const app = appOver(reads);
  const unlock = await lockTables();
  let res: Response;
  try {
    res = await app.request('/v1/reports/events?groupBy=type');
  } finally {
    await unlock();
  }
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '5');
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'query_timeout');
  assert.match(body.error.message, /KEYFLOW_QUERY_TIMEOUT_MS/);
  assert.equal((await app.request('/v1/reports/events?groupBy=type')).status, 200);
});

test('a report whose client goes away is cancelled in PostgreSQL while the lock it waits for is still held', async () => {
  // A timeout far beyond the test: only the cancel can end the statement.
  const reads = db.connect({ max: 2, statementTimeoutMs: 600_000, applicationName: 'kf-t-cancel' });
  const app = appOver(reads);
  const unlock = await lockTables();
  try {
    const client = new AbortController();
    const answer = app.request(new Request('http://localhost/v1/reports/events?groupBy=type,source', { signal: client.signal }));
    await untilCount('reports waiting on the lock', () => waitingOnLocks(db.sql, 'kf-t-cancel'), 1, 10_000);
    client.abort();
    await untilCount('reports still waiting after the client left', () => waitingOnLocks(db.sql, 'kf-t-cancel'), 0, 10_000);
    assert.equal((await answer).status, 503);
  } finally {
    await unlock();
  }
});

test('abortable - a read whose signal never aborts is untouched; helpers and fragments are not statements', async () => {
  const ac = new AbortController();
  const r = await abortable(db.sql, ac.signal, (s) => reportEvents(s, { from: new Date(0), to: new Date(Date.UTC(2030, 0)), groupBy: ['type'] }));
  assert.deepEqual(r, { total: 0, groups: [] });
  ac.abort(); // after the read: cancels nothing, rejects nothing
  await new Promise((r) => setTimeout(r, 50));
});
