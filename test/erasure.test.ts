// Erasure end to end against a real keyflow (DESIGN.md, Erasure): the command runs in order
// on the user's partition while their events keep arriving, survives a SIGKILL between its
// produce and its transaction, and a replay of the whole topic erases nothing twice and
// brings back nothing erased.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMAND_HEADER, ERASE_USER, encodeEraseUser, type EventInput } from '../actors/index.ts';
import { aggregateDrift } from '../db/testing.ts';
import { chunks, makeEvents } from './support/events.ts';
import { eventually, getJson, postJson, sendBatches } from './support/http.ts';
import { testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { testKafka } from './support/services.ts';

type Erasure = { id: string; userId: string; status: 'pending' | 'done'; eventsErased: number; requestedAt: string; doneAt?: string };

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  // A long flush interval keeps the user's events pending in the worker when the DELETE lands.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '300' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const now = Date.now();
const userEvents = (userId: string, prefix: string, n: number): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: i % 3 === 0 ? 'checkout.complete' : 'page.view', source: 'web', occurredAt: now - (i % 50) * 7_000, userId,
    ...(i % 3 === 0 && { revenue: { amount: 1.25 + i, currency: 'USD' } }), ...(i % 2 === 0 && { funnelStage: 'top' as const }), user: { country: 'US', age: 30 + (i % 5) } }));

async function post(events: readonly EventInput[]): Promise<void> {
  const r = await postJson(`${kf.url}/v1/events`, { events });
  assert.equal(r.status, 202, JSON.stringify(r.body));
}

async function erase(userId: string): Promise<string> {
  const res = await fetch(`${kf.url}/v1/users/${encodeURIComponent(userId)}`, { method: 'DELETE' });
  const body = (await res.json()) as { erasureId: string; status: string };
  assert.equal(res.status, 202, JSON.stringify(body));
  assert.equal(body.status, 'pending');
  return body.erasureId;
}

const erasure = async (id: string) => (await getJson<Erasure>(`${kf.url}/v1/erasures/${id}`)).body;
const untilDone = (id: string) => eventually(() => erasure(id), (e) => e.status === 'done', 60_000, 50);
const count = async (where: string, param: string) => {
  const [r] = await iso.db.sql.unsafe<[{ n: number }]>(`select count(*)::int as n from events where ${where}`, [param]);
  return r.n;
};
const total = async () => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`)[0].n;

/** The group's committed offsets equal the topic's high watermarks: everything consumed is committed. */
async function caughtUp(): Promise<void> {
  const kafka = testKafka('keyflow-test-lag');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => {
      const high = await admin.fetchTopicOffsets(iso.topic);
      const [committed] = await admin.fetchOffsets({ groupId: iso.env.KEYFLOW_GROUP_ID!, topics: [iso.topic] });
      return high.every((h) => committed?.partitions.find((p) => p.partition === h.partition)?.offset === h.high || h.high === '0');
    }, (ok) => ok, 90_000, 200);
  } finally {
    await admin.disconnect();
  }
}

test('erasure - while the user keeps sending, everything accepted before the DELETE is erased, later events are new data, and the aggregates stay exact', async () => {
  const others = makeEvents(3_000, { prefix: 'o', seed: 5, now, spanMs: 5 * 60_000 });
  const load = sendBatches(() => kf.url, chunks(others, 100), 2, 120_000);
  const before: EventInput[] = [];
  const afterwards: EventInput[] = [];
  let erasureId = '';
  for (let i = 0; i < 30; i++) {
    const batch = userEvents('u-target', `t${i}`, 10);
    await post(batch);
    (i < 15 ? before : afterwards).push(...batch);
    if (i === 14) {
      erasureId = await erase('u-target');
      const pending = await erasure(erasureId); // readable at once
      assert.equal(pending.userId, 'u-target');
    }
  }
  // An erased event sent again after the erasure is new data: the worker's dedup forgot it.
  const resent = before[0]!;
  await post([resent]);
  afterwards.push(resent);
  await load;

  const done = await untilDone(erasureId);
  assert.equal(done.status, 'done');
  assert.equal(done.eventsErased, before.length);
  assert.ok(done.doneAt !== undefined && done.doneAt >= done.requestedAt);

  await eventually(total, (n) => n >= others.length + afterwards.length, 60_000);
  assert.equal(await total(), others.length + afterwards.length);
  const kept = await iso.db.sql<{ id: string }[]>`select id from events where user_id = 'u-target' order by id`;
  assert.deepEqual(kept.map((r) => r.id), afterwards.map((e) => e.id).sort());
  assert.equal((await getJson(`${kf.url}/v1/events/${before[1]!.id}`)).status, 404);
  assert.deepEqual(await aggregateDrift(iso.db.sql), []);
  const [user] = await iso.db.sql<[{ events: string }]>`select events from users where user_id = 'u-target'`;
  assert.equal(Number(user.events), afterwards.length, 'the users row holds only what came after');
  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = await getJson<{ total: number }>(`${kf.url}/v1/reports/events?${window}`);
  assert.equal(report.body.total, await total());

  // Erasing a user nobody has seen is done with nothing erased.
  const unknown = await untilDone(await erase('u-never-seen'));
  assert.equal(unknown.eventsErased, 0);
  assert.equal((await getJson(`${kf.url}/v1/erasures/not-an-erasure`)).status, 404);

  // Neither an event shaped like a command nor a command keyflow did not sign (malformed, or
  // the same command produced again by another producer) erases anything or blocks the partition.
  const producer = await testProducer();
  try {
    const again = encodeEraseUser({ type: ERASE_USER, erasureId, userId: 'u-target', requestedAt: Date.parse(done.requestedAt) });
    await producer.send({ topic: iso.topic, acks: -1, messages: [
      { key: 'u-target', value: again },
      { key: 'u-target', value: '{"erasureId":"x"}', headers: { [COMMAND_HEADER]: ERASE_USER } },
      { key: 'u-target', value: again, headers: { [COMMAND_HEADER]: ERASE_USER } },
    ] });
  } finally {
    await producer.disconnect();
  }
  const marker = userEvents('u-target', 'marker', 1);
  await post(marker);
  await eventually(() => count('id = $1', 'marker-0'), (n) => n === 1, 60_000);
  assert.equal(await count('user_id = $1', 'u-target'), afterwards.length + 1);
  assert.equal((await erasure(erasureId)).eventsErased, before.length);
  const dead = await iso.db.sql<{ reason: string }[]>`select reason from dead_letters order by "offset"`;
  assert.deepEqual(dead.map((d) => d.reason).sort(), ['schema', 'unsigned-command', 'unsigned-command']);
  assert.deepEqual(await aggregateDrift(iso.db.sql), []);
});

test('erasure - SIGKILL right after the 202, restart: done with the right count; a replay of the whole topic erases nothing twice and brings nothing back', async () => {
  const theirs = userEvents('u-kill', 'k', 80);
  for (const b of chunks(theirs, 20)) await post(b);
  const erasureId = await erase('u-kill');
  await kf.stop('SIGKILL');
  kf = await startKeyflow(iso.env);
  const done = await untilDone(erasureId);
  assert.equal(done.eventsErased, theirs.length);
  assert.equal(await count('user_id = $1', 'u-kill'), 0);
  const totalBefore = await total();
  const targetBefore = await count('user_id = $1', 'u-target');
  const erasuresBefore = await iso.db.sql`select id, events_erased, done_at from erasures order by id`;
  await caughtUp();

  // Replay everything from the start: every erased event comes by again, before its command.
  await kf.stop('SIGTERM');
  const kafka = testKafka('keyflow-test-reset');
  const admin = kafka.admin();
  await admin.connect();
  await eventually(() => admin.resetOffsets({ groupId: iso.env.KEYFLOW_GROUP_ID!, topic: iso.topic, earliest: true }).then(() => true), (ok) => ok, 30_000, 500);
  await admin.disconnect();
  kf = await startKeyflow(iso.env);
  await caughtUp();

  assert.equal(await total(), totalBefore);
  assert.equal(await count('user_id = $1', 'u-kill'), 0);
  assert.equal(await count('user_id = $1', 'u-target'), targetBefore);
  assert.deepEqual(await iso.db.sql`select id, events_erased, done_at from erasures order by id`, erasuresBefore);
  assert.deepEqual(await aggregateDrift(iso.db.sql), []);
  const [gone] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from users where user_id = 'u-kill'`;
  assert.equal(gone.n, 0);
});
