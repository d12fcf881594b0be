// Slow reads cannot starve readiness (DESIGN.md *Security*, "Reads are bounded"), against a
// real keyflow: with 8 reports stuck in PostgreSQL — every connection of the read pool busy —
// /readyz still answers 200 from its own connection, and the reports end as 503 query_timeout
// with Retry-After once KEYFLOW_QUERY_TIMEOUT_MS passes. The bench twin,
// bench/readyz-under-reads.ts, says how fast /readyz answers meanwhile.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { holdReportTables, startReports, untilCount, waitingOnLocks } from './support/slow-reads.ts';

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate({ KEYFLOW_QUERY_TIMEOUT_MS: '5000', KEYFLOW_READ_POOL_SIZE: '8', KEYFLOW_WORKERS: '1' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

test('8 reports stuck in PostgreSQL: /readyz answers 200 meanwhile; the reports end as 503 query_timeout', async () => {
  const unlock = await holdReportTables(iso.db.sql);
  let answers;
  try {
    const reports = startReports(kf.url, 8);
    await untilCount('reports waiting in PostgreSQL', () => waitingOnLocks(iso.db.sql), 8);
    const res = await fetch(`${kf.url}/readyz`);
    const body = (await res.json()) as { ready: boolean; checks: Record<string, { ok: boolean }> };
    // The probe ran while all 8 still held their connections.
    assert.equal(await waitingOnLocks(iso.db.sql), 8, 'the reports were still waiting when /readyz answered');
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.checks['postgres']?.ok, true);
    answers = await Promise.all(reports);
  } finally {
    await unlock();
  }
  for (const a of answers) assert.deepEqual(a, { status: 503, retryAfter: '5', code: 'query_timeout' });
  // The pool is whole again: the same reports answer once nothing holds the tables.
  for (const a of await Promise.all(startReports(kf.url, 4))) assert.equal(a.status, 200);
});
