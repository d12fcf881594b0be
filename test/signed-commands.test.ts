// Only keyflow commands (DESIGN.md, Guarantees), tried as a hostile producer would against a
// real keyflow: anyone who can write to the topic, and can read it (copy headers), still erases
// nobody and gets no event past validation. Issue 20: before signing, the forged command
// erased `victim` (GET /v1/users/victim 200 → 404) and a copied trust header put a NaN into
// every revenue report.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { COMMAND_HEADER, ERASE_USER, encodeEraseUser, type EventInput } from '../actors/index.ts';
import { eventually, getJson, postJson } from './support/http.ts';
import { testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { serviceUrls, testEnv } from './support/services.ts';

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '50' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const now = Date.now();
const events = (userId: string, prefix: string, n: number, extra: Partial<EventInput> = {}): EventInput[] =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'checkout.complete', source: 'web', occurredAt: now - i * 1_000, userId, ...extra }));

async function post(batch: readonly EventInput[]): Promise<void> {
  const r = await postJson(`${kf.url}/v1/events`, { events: batch });
  assert.equal(r.status, 202, JSON.stringify(r.body));
}

const stored = async (userId: string): Promise<number> => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where user_id = ${userId}`)[0].n;
const deadLetters = async (): Promise<{ reason: string; error: string; key: string | null }[]> =>
  iso.db.sql<{ reason: string; error: string; key: string | null }[]>`select reason, error, convert_from(message_key, 'UTF8') as key from dead_letters order by partition, "offset"`;

/** Post a marker event for `userId` and wait until it is stored: everything before it on that key was handled. */
async function settled(userId: string): Promise<void> {
  const marker = events(userId, `marker-${randomBytes(3).toString('hex')}`, 1);
  await post(marker);
  const n = await eventually(() => iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id = ${marker[0]!.id}`.then((r) => r[0].n), (x) => x === 1, 60_000);
  assert.equal(n, 1, `marker of ${userId} not stored`);
}

/** The messages keyflow itself produced to the topic, as any reader of the topic sees them. */
type Read = { key: string; value: string; headers: IHeaders };
async function readTopic(until: (m: Read) => boolean): Promise<Read> {
  const kafka = new Kafka({ clientId: 'keyflow-test-reader', brokers: [...serviceUrls(testEnv()).kafkaBrokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `keyflow-test-reader-${randomBytes(4).toString('hex')}` });
  let found: Read | undefined;
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: iso.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`none of ${seen} messages read is the one sought`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen++;
          const m = { key: String(message.key), value: String(message.value), headers: message.headers ?? {} };
          if (found === undefined && until(m)) {
            found = m;
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return found!;
}

test('signed commands - forged, copied and replayed erasures erase nothing and are dead-lettered unsigned-command; a genuine one still runs', async () => {
  await post(events('victim', 'v', 5));
  await post(events('u-own', 'own', 3));
  await settled('victim');
  assert.equal((await getJson(`${kf.url}/v1/users/victim`)).status, 200);

  // A genuine erasure of u-own, through the edge: it runs.
  const del = await fetch(`${kf.url}/v1/users/u-own`, { method: 'DELETE' });
  const { erasureId } = (await del.json()) as { erasureId: string };
  assert.equal(del.status, 202);
  const done = await eventually(() => getJson<{ status: string; eventsErased: number }>(`${kf.url}/v1/erasures/${erasureId}`), (r) => r.body.status === 'done', 60_000);
  assert.equal(done.body.eventsErased, 3);

  // The attacker reads the topic: the genuine command, with every header keyflow put on it.
  const genuine = await readTopic((m) => m.headers[COMMAND_HEADER] !== undefined);
  assert.ok(!Object.values(genuine.headers).some((v) => String(v).includes(iso.env.KEYFLOW_EDGE_TOKEN!)), 'the secret does not travel');
  await post(events('u-own', 'own-later', 2)); // new data after the erasure

  const requestedAt = Date.now();
  const producer = await testProducer();
  try {
    await producer.send({ topic: iso.topic, acks: -1, messages: [
      // 1. The header only, as in the issue.
      { key: 'victim', value: encodeEraseUser({ type: ERASE_USER, erasureId: 'forged-1', userId: 'victim', requestedAt }), headers: { [COMMAND_HEADER]: ERASE_USER } },
      // 2. Every header of the genuine command, copied onto another user's erasure.
      { key: 'victim', value: encodeEraseUser({ type: ERASE_USER, erasureId: 'forged-2', userId: 'victim', requestedAt }), headers: genuine.headers },
      // 3. The genuine command replayed with another erasureId.
      { key: 'u-own', value: genuine.value.replace(erasureId, 'forged-3'), headers: genuine.headers },
    ] });
  } finally {
    await producer.disconnect();
  }
  await settled('victim');
  await settled('u-own');

  // Everything observed at once, so that a failure shows the whole outcome (issue 20: victim erased, forged-1 "done").
  const victim = await getJson<{ events: number }>(`${kf.url}/v1/users/victim`);
  const observed = {
    victim: [victim.status, victim.body.events],
    stored: { victim: await stored('victim'), 'u-own': await stored('u-own') },
    erasures: Object.fromEntries(await Promise.all(['forged-1', 'forged-2', 'forged-3'].map(async (id) => [id, (await getJson(`${kf.url}/v1/erasures/${id}`)).status] as const))),
    deadLetters: (await deadLetters()).filter((d) => d.reason === 'unsigned-command').map((d) => d.key).sort(),
  };
  assert.deepEqual(observed, {
    victim: [200, 5 + 2], // not erased: its 5 events and the two markers
    stored: { victim: 5 + 2, 'u-own': 2 + 1 }, // the replay did not erase u-own's later events
    erasures: { 'forged-1': 404, 'forged-2': 404, 'forged-3': 404 },
    deadLetters: ['u-own', 'victim', 'victim'],
  });
  const dead = (await deadLetters()).filter((d) => d.reason === 'unsigned-command');
  assert.match(dead[0]!.error, /no valid signature \(keyflow-signature\)/);
});

test('signed commands - an edge signature copied onto a hand-made NaN-revenue event is validated in full and dead-lettered; reports stay numbers', async () => {
  await post(events('u-pay', 'pay', 1, { revenue: { amount: 10, currency: 'USD' } }));
  await settled('u-pay');
  const signedEvent = await readTopic((m) => m.value.includes('"pay-0"'));
  const forged = JSON.parse(signedEvent.value) as Record<string, unknown>;
  forged['id'] = 'nan-1';
  forged['revenue'] = { amount: 'NaN', currency: 'USD' };
  const producer = await testProducer();
  try {
    await producer.send({ topic: iso.topic, acks: -1, messages: [{ key: 'u-pay', value: JSON.stringify(forged), headers: signedEvent.headers }] });
  } finally {
    await producer.disconnect();
  }
  await settled('u-pay');
  const [nan] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id = 'nan-1'`;
  const dead = (await deadLetters()).filter((d) => d.key === 'u-pay');
  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = await getJson<{ currencies: { currency: string; revenue: string }[] }>(`${kf.url}/v1/reports/revenue?${window}`);
  // Issue 20: the forged event was stored and every revenue answer of the window said "NaN".
  assert.deepEqual({ stored: nan.n, dead: dead.map((d) => d.reason), report: [report.status, report.body.currencies.map((c) => [c.currency, c.revenue])] },
    { stored: 0, dead: ['schema'], report: [200, [['USD', '10']]] });
  assert.match(dead[0]!.error, /revenue\.amount/);
});
