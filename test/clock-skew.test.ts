// Clock skew against a real keyflow (DESIGN.md, The event and Live; issue 20): an event dated
// 9999-12-31 used to be accepted and to count as an active user forever. Now it is a 400 at
// the edge and a `future` dead letter straight from Kafka; an event a little ahead (within
// KEYFLOW_MAX_FUTURE) is stored but is not live before its time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, getJson, postJson } from './support/http.ts';
import { testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Summary = { at: string; activeUsers: { '1m': number; '5m': number; '30m': number } };

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate({ KEYFLOW_MAX_FUTURE: '1h', KEYFLOW_LIVE_RECONCILE_MS: '500' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const event = (id: string, userId: string, occurredAt: string | number) => ({ id, type: 'page.view', source: 'web', occurredAt, userId });

test('clock skew - the edge refuses an event more than KEYFLOW_MAX_FUTURE ahead with a 400 naming occurredAt and the limit', async () => {
  const r = await postJson(`${kf.url}/v1/events`, event('edge-far', 'u-far', '9999-12-31T23:59:59Z'));
  const soon = await postJson(`${kf.url}/v1/events`, event('edge-soon', 'u-soon', Date.now() + 50 * 60_000));
  assert.deepEqual([r.status, soon.status], [400, 202], 'beyond the limit refused, within it taken');
  const body = r.body as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'validation_failed');
  assert.match(body.error.message, /occurredAt: is more than 1h ahead of the server's clock \(KEYFLOW_MAX_FUTURE=1h\)/);
});

test('clock skew - straight from Kafka, an event beyond the limit is dead-lettered `future`; one within it is stored but not live before its time', async () => {
  const now = Date.now();
  const producer = await testProducer();
  try {
    await producer.send({ topic: iso.topic, acks: -1, messages: [
      { key: 'u-k-far', value: JSON.stringify(event('kafka-far', 'u-k-far', '9999-12-31T00:00:00Z')) },
      { key: 'u-k-2h', value: JSON.stringify(event('kafka-2h', 'u-k-2h', now + 2 * 3_600_000)) },
      { key: 'u-k-soon', value: JSON.stringify(event('kafka-soon', 'u-k-soon', now + 30 * 60_000)) },
    ] });
  } finally {
    await producer.disconnect();
  }
  const rows = await eventually(
    () => iso.db.sql<{ reason: string; error: string; raw: string }[]>`select reason, error, convert_from(raw, 'UTF8') as raw from dead_letters order by raw`,
    (r) => r.length === 2,
    60_000,
  );
  assert.deepEqual(rows.map((r) => [JSON.parse(r.raw).id, r.reason]).sort(), [['kafka-2h', 'future'], ['kafka-far', 'future']]);
  assert.match(rows[0]!.error, /occurredAt is more than 1h ahead.*KEYFLOW_MAX_FUTURE=1h/);
  const stored = await eventually(() => iso.db.sql<{ id: string }[]>`select id from events order by id`, (r) => r.length === 2, 60_000);
  assert.deepEqual(stored.map((r) => r.id), ['edge-soon', 'kafka-soon']);

  // A user active now is counted; the users whose only events are ahead are not.
  assert.equal((await postJson(`${kf.url}/v1/events`, event('now-1', 'u-now', Date.now() - 5_000))).status, 202);
  const summary = await eventually(() => getJson<Summary>(`${kf.url}/v1/analytics/summary`), (r) => r.body.activeUsers['1m'] >= 1, 30_000);
  assert.equal(summary.body.activeUsers['1m'], 1, JSON.stringify(summary.body));
  assert.equal(summary.body.activeUsers['30m'], 1, 'u-soon and u-k-soon are ahead of `at`: not active');
});
