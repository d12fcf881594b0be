// The Kafka broker stopped in the middle of a stream and started again. While it is down the
// edge refuses to accept (503 with Retry-After: nothing it cannot make durable is
// acknowledged) and /readyz says Kafka is down; when it is back the same process's producer
// and consumers carry on by themselves, and with clients retrying what was refused every
// event is stored and counted exactly once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chunks, expectedGroups, makeEvents } from './support/events.ts';
import { restoreServices, startService, stopService } from './support/faults.ts';
import { eventually, getJson, postJson, sendBatches } from './support/http.ts';
import { metricValue } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Report = { total: number; groups: { type: string; source: string; funnelStage: string | null; count: number }[] };

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate({ KEYFLOW_PUBLISH_TIMEOUT_MS: '2000', KEYFLOW_FLUSH_INTERVAL_MS: '100' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await restoreServices();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

async function stored(): Promise<{ rows: number; rolledUp: number; users: number }> {
  const [r] = await iso.db.sql<[{ rows: number; rolled: number; users: number }]>`
    select (select count(*)::int from events) as rows,
      (select coalesce(sum(events), 0)::int from rollups_minute) as rolled,
      (select coalesce(sum(events), 0)::int from users) as users`;
  return { rows: r.rows, rolledUp: r.rolled, users: r.users };
}

test('faults - the Kafka broker restarted mid-stream: 503 with Retry-After while it is down, producer and consumers resume on their own, counts exact', async () => {
  const now = Date.now();
  const events = makeEvents(20_000, { prefix: 'k', seed: 71, now });
  const resent = events.filter((_, i) => i % 10 === 3);
  const batches = chunks(events, 200).flatMap((b, i) => [b, resent.slice(i * 20, i * 20 + 20)].filter((x) => x.length > 0));
  const pid = kf.child.pid;

  // Clients retry a refused batch every 200 ms until it is accepted, as a real client would.
  const sending = sendBatches(() => kf.url, batches, 3, 240_000);
  await eventually(stored, (s) => s.rows >= 3_000, 60_000, 50);
  await stopService('kafka');

  const probe = { id: 'k-probe', type: 'page.view', source: 'web', occurredAt: now, userId: 'u-probe' };
  const t0 = Date.now();
  const refused = await postJson(`${kf.url}/v1/events`, probe);
  assert.equal(refused.status, 503, JSON.stringify(refused.body));
  assert.ok(Date.now() - t0 < 10_000, `the refusal took ${Date.now() - t0} ms`);
  assert.equal(refused.headers.get('Retry-After'), '5');
  assert.deepEqual({ code: (refused.body as { error: { code: string } }).error.code, accepted: (refused.body as { accepted: number }).accepted }, { code: 'kafka_unavailable', accepted: 0 });
  const ready = await eventually(() => getJson<{ checks: Record<string, { ok: boolean }> }>(`${kf.url}/readyz`), (r) => r.status === 503, 15_000);
  assert.equal(ready.status, 503);
  assert.equal(ready.body.checks['kafka']?.ok, false);
  const storedWhileDown = (await stored()).rows;
  await new Promise((r) => setTimeout(r, 3_000));

  await startService('kafka');
  const { retries } = await sending;
  assert.ok(retries > 0, 'some batches were refused while Kafka was down and sent again');
  assert.equal((await postJson(`${kf.url}/v1/events`, probe)).status, 202, 'the producer accepts again');

  const total = events.length + 1;
  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = async () => (await getJson<Report>(`${kf.url}/v1/reports/events?${window}&groupBy=type,source,funnelStage`)).body;
  const got = await eventually(report, (r) => r.total >= total, 120_000, 250);
  assert.equal(got.total, total);
  const expected = expectedGroups([...events, probe]);
  assert.deepEqual(new Map(got.groups.map((g) => [`${g.type}|${g.source}|${g.funnelStage}`, g.count])), expected);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.deepEqual(await stored(), { rows: total, rolledUp: total, users: total });
  assert.ok(storedWhileDown < total, 'the broker went down in the middle of the stream');

  assert.equal(kf.child.pid, pid);
  assert.equal(kf.child.exitCode, null, 'the same process recovered by itself');
  const m = await (await fetch(`${kf.url}/metrics`)).text();
  assert.equal(metricValue(m, 'keyflow_worker_restarts_total'), 0, 'the consumers resumed without a thread being replaced');
  assert.equal((await getJson(`${kf.url}/readyz`)).status, 200);
});
