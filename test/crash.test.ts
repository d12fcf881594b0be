// Effectively once across a crash: keyflow is killed with SIGKILL in the middle of a stream
// and started again; clients retry what failed. Nothing is missing, nothing counted twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Analytics } from '@segment/analytics-node';
import { chunks, expectedGroups, makeEvents } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Report = { total: number; groups: { type: string; source: string; funnelStage: string | null; count: number }[] };

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  // A long flush interval keeps events pending in memory, so the kill lands mid-batch. A fixed
  // port: a restarted process listens where an SDK configured with its host keeps sending.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '300', PORT: String(await freePort()) });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

test('crash - SIGKILL in the middle of a stream loses nothing and counts nothing twice', async () => {
  const now = Date.now();
  const events = makeEvents(10_000, { prefix: 'c', seed: 9, now });
  const resent = events.filter((_, i) => i % 10 === 5);
  // Originals and retries interleaved, in batches of 200.
  const batches = chunks(events, 200).flatMap((b, i) => {
    const r = resent.slice(i * 20, i * 20 + 20);
    return r.length > 0 ? [b, r] : [b];
  });

  const progress = { acked: 0 };
  const sending = sendBatches(() => kf.url, batches, 3, 180_000, progress);
  // Killed once a third of the batches were acknowledged: the rest must go to the restarted process.
  await eventually(async () => progress.acked, (n) => n >= batches.length / 3, 60_000, 5);
  const killed = await kf.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const ackedAtKill = progress.acked;
  const [{ n: atKill }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  assert.ok(atKill < 10_000, 'the kill should land in the middle of the stream');
  kf = await startKeyflow(iso.env);
  const { retries } = await sending;
  assert.ok(ackedAtKill < batches.length, 'batches were still unsent when keyflow was killed');
  assert.ok(retries > 0, 'clients had to retry while keyflow was down');

  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = async () => (await getJson<Report>(`${kf.url}/v1/reports/events?${window}&groupBy=type,source,funnelStage`)).body;
  const got = await eventually(report, (r) => r.total >= 10_000, 90_000);
  assert.equal(got.total, 10_000);
  assert.deepEqual(new Map(got.groups.map((g) => [`${g.type}|${g.source}|${g.funnelStage}`, g.count])), expectedGroups(events));
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await report()).total, 10_000);
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  assert.equal(n, 10_000);
});

/** A TCP port free right now on 127.0.0.1, so a restarted keyflow can listen where the SDK sends. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('crash - analytics-node retrying across a SIGKILL mid-batch: every message stored and counted once', async () => {
  const port = new URL(kf.url).port;
  const now = Date.now();
  const TOTAL = 3000;
  const analytics = new Analytics({ writeKey: 'any-write-key', host: `http://127.0.0.1:${port}`, flushAt: 100, flushInterval: 50, maxRetries: 30 });
  const counts = { requests: 0, ok: 0, failed: 0 };
  analytics.on('http_request', () => counts.requests++);
  analytics.on('http_response', (r) => (r.status === 200 ? counts.ok++ : counts.failed++));
  let delivered = 0;
  analytics.on('error', () => assert.fail('the SDK gave up on a batch'));
  // An app tracking steadily (100 messages every 50 ms) while keyflow dies and comes back.
  const tracking = (async () => {
    for (let i = 0; i < TOTAL; i++) {
      analytics.track({ userId: `su-${i % 50}`, messageId: `seg-crash-${i}`, event: i % 3 === 0 ? 'seg.buy' : 'seg.view', timestamp: new Date(now - 60_000 + i), properties: { i } }, () => delivered++);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // Killed once a third of the batches were acknowledged; the SDK retries the rest itself.
  await eventually(async () => counts.ok, (n) => n >= TOTAL / 100 / 3, 60_000, 5);
  const killed = await kf.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const okAtKill = counts.ok;
  kf = await startKeyflow(iso.env);
  await tracking;
  await analytics.closeAndFlush({ timeout: 120_000 });
  assert.equal(delivered, TOTAL);
  assert.ok(okAtKill < TOTAL / 100, 'batches were still unsent when keyflow was killed');
  assert.ok(counts.requests > counts.ok, `some requests failed with the process and were retried (${JSON.stringify(counts)})`);

  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = async () => (await getJson<Report>(`${kf.url}/v1/reports/events?${window}&type=seg.buy,seg.view&groupBy=type`)).body;
  const got = await eventually(report, (r) => r.total >= TOTAL, 90_000);
  assert.equal(got.total, TOTAL);
  assert.deepEqual(got.groups.map((g) => [g.type, g.count]), [['seg.view', 2000], ['seg.buy', 1000]]);
  await new Promise((r) => setTimeout(r, 1_000));
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id like 'seg-crash-%'`;
  assert.equal(n, TOTAL);
  console.log(`segment crash: ${TOTAL} messages, ${counts.requests} requests (${counts.ok} answered 200, ${counts.failed} other answers, ${counts.requests - counts.ok - counts.failed} lost with the process), ${okAtKill} batches acknowledged at the kill, ${n} events stored`);
});
