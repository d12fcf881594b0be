// POST /v1/events/stream against a real keyflow: a long NDJSON body with bad lines and
// resends is stored exactly, a cut-off body reports nothing it did not get acknowledged, and
// resending the whole stream changes nothing.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { aggregateDrift } from '../db/testing.ts';
import { makeEvents } from './support/events.ts';
import { eventually } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { storedCounts } from './support/store.ts';

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate();
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

type Summary = { accepted: number; rejectedCount: number; rejected: { line: number }[]; lines: number };

async function stream(body: string): Promise<{ status: number; summary: Summary }> {
  const res = await fetch(`${kf.url}/v1/events/stream`, { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
  return { status: res.status, summary: (await res.json()) as Summary };
}

test('stream ingest - 20,000 events in one NDJSON body, with bad lines and resends, are stored and counted once; resending the whole stream adds nothing', async () => {
  const events = makeEvents(20_000, { prefix: 'st', seed: 21, now: Date.now() });
  const lines: string[] = [];
  events.forEach((e, i) => {
    lines.push(JSON.stringify(e));
    if (i % 1000 === 7) lines.push('{"id": broken');
    if (i % 10 === 3) lines.push(JSON.stringify(e)); // a resend inside the stream
  });
  const body = `${lines.join('\n')}\n`;
  const first = await stream(body);
  assert.equal(first.status, 202);
  assert.equal(first.summary.rejectedCount, 20);
  assert.equal(first.summary.accepted, 20_000 + 2_000);
  const stored = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= 20_000, 60_000);
  assert.deepEqual(stored, { rows: 20_000, rolledUp: 20_000 });

  const again = await stream(body);
  assert.equal(again.status, 202);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.deepEqual(await storedCounts(iso.db.sql), { rows: 20_000, rolledUp: 20_000 });
  assert.deepEqual(await aggregateDrift(iso.db.sql), []);
});

test('stream ingest - a body cut off mid-way stores only whole lines that were sent, and the process stays healthy', async () => {
  const events = makeEvents(3_000, { prefix: 'cut', seed: 22, now: Date.now() });
  const before = (await storedCounts(iso.db.sql)).rows;
  const url = new URL(`${kf.url}/v1/events/stream`);
  const half = `${events.slice(0, 1_500).map((e) => JSON.stringify(e)).join('\n')}\n${JSON.stringify(events[1_500]).slice(0, 20)}`;
  await new Promise<void>((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked' } });
    req.on('error', () => resolve());
    req.write(half, () => setTimeout(() => {
      req.destroy();
      resolve();
    }, 300));
  });
  // Whole lines sent before the cut may be stored; the partial line never is.
  await new Promise((r) => setTimeout(r, 1_500));
  const afterCut = (await storedCounts(iso.db.sql)).rows - before;
  assert.ok(afterCut <= 1_500, `at most the 1,500 whole lines sent (${afterCut})`);
  const [partial] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id = ${events[1_500]!.id}`;
  assert.equal(partial.n, 0);
  const health = await fetch(`${kf.url}/healthz`);
  assert.equal(health.status, 200);
  // The client retries the whole stream: everything is there once.
  const retry = await stream(events.map((e) => JSON.stringify(e)).join('\n'));
  assert.equal(retry.summary.accepted, 3_000);
  const stored = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= before + 3_000, 60_000);
  assert.equal(stored.rows, before + 3_000);
  assert.equal(stored.rolledUp, before + 3_000);
});
