// Effectively once across a crash: keyflow is killed with SIGKILL in the middle of a stream
// and started again; clients retry what failed. Nothing is missing, nothing counted twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chunks, expectedGroups, makeEvents } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Report = { total: number; groups: { type: string; source: string; funnelStage: string | null; count: number }[] };

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  // A long flush interval keeps events pending in memory, so the kill lands mid-batch.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '300' });
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
