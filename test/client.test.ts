// keyflow/client against a real keyflow that is SIGKILLed and restarted while the client
// sends 50,000 events: every send() resolves (no error reaches the caller), and the store
// holds each event exactly once.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { aggregateDrift } from '../db/testing.ts';
import { createClient } from '../http/client/index.ts';
import { makeEvents } from './support/events.ts';
import { eventually } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { storedCounts } from './support/store.ts';

let iso: Isolated;
let kf: KeyflowProcess;
let port: number;

/** A port free right now: the restarted keyflow must listen where the client sends. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  port = await freePort();
  iso = await isolate({ PORT: String(port) });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

test('client - 50,000 events sent while keyflow is SIGKILLed and restarted: no error reaches the caller, each event stored once', async () => {
  const events = makeEvents(50_000, { prefix: 'cl', seed: 31, now: Date.now() });
  const retries: (number | string)[] = [];
  const client = createClient({
    baseUrl: `http://127.0.0.1:${port}`,
    batchSize: 500,
    lingerMs: 10,
    concurrency: 4,
    backoff: { initialMs: 50, maxMs: 1_000 },
    deadlineMs: 120_000,
    onRetry: (r) => retries.push(r.status ?? String((r.error as Error | undefined)?.message ?? r.error)),
  });
  let accepted = 0;
  const t0 = Date.now();
  const sends = events.map((e) => client.send(e).then(() => void accepted++));
  // Settled below; a failure is reported there with the keyflow logs, not as an unhandled rejection.
  for (const s of sends) s.catch(() => undefined);
  await eventually(async () => accepted, (n) => n >= 15_000, 90_000, 5);
  const killed = await kf.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const acceptedAtKill = accepted;
  kf = await startKeyflow(iso.env);
  const outcomes = await Promise.allSettled(sends);
  await client.close();
  const failed = outcomes.filter((o) => o.status === "rejected");
  if (failed.length > 0) process.stderr.write(kf.logs().split("\n").filter((l) => /request failed|error/.test(l)).slice(0, 5).join("\n"));
  assert.equal(failed.length, 0, `no send() failed (first: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)})`);
  assert.ok(acceptedAtKill < 50_000, 'the kill landed while events were still being sent');
  assert.ok(retries.length > 0, 'the client had to retry while keyflow was down');
  const stored = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= 50_000, 120_000);
  assert.deepEqual(stored, { rows: 50_000, rolledUp: 50_000 });
  assert.deepEqual(await aggregateDrift(iso.db.sql), []);
  process.stderr.write(`client SIGKILL test: ${retries.length} retries, all 50,000 accepted in ${Date.now() - t0} ms (killed at ${acceptedAtKill})\n`);
});
