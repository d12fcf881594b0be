// Bytes, not counts, on the produce side (DESIGN.md, Guarantees; issue 19 point 4): a request
// within the body limits is never refused because of how keyflow batches it for Kafka, and an
// event larger than one Kafka message is a 413 naming the limit, before anything is produced.
// The topic is created beforehand with a small max.message.bytes (64 KiB): keyflow must read
// it from the topic, and splitting is exercised without megabytes of traffic.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { EventInput } from '../actors/index.ts';
import { eventually } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { serviceUrls, testEnv } from './support/services.ts';

const MAX_MESSAGE_BYTES = 64 * 1024;

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  iso = await isolate();
  const admin = new Kafka({ clientId: 'produce-bytes-test', brokers: [...serviceUrls(testEnv()).kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: iso.topic, numPartitions: 4, configEntries: [{ name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) }] }] });
  } finally {
    await admin.disconnect();
  }
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

/** One user's event whose encoding is about `bytes` long. */
const sized = (id: string, userId: string, bytes: number): EventInput => ({
  id, type: 'page.view', source: 'web', occurredAt: Date.now() - 1_000, userId, properties: { pad: 'x'.repeat(Math.min(1024, bytes)), ...pads(bytes - 1024) },
});
const pads = (bytes: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: Math.max(0, Math.ceil(bytes / 1024)) }, (_, i) => [`p${i}`, 'y'.repeat(1000)]));

/** About 197 KB encoded: 64 properties of 1,024 three-byte characters, as large as the schema allows. */
const huge = (id: string, userId: string): EventInput => ({
  id, type: 'page.view', source: 'web', occurredAt: Date.now() - 1_000, userId,
  properties: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, '€'.repeat(1024)])),
});

const storedOf = async (userId: string): Promise<number> => {
  const [r] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where user_id = ${userId}`;
  return r.n;
};

test('produce bytes - one user\'s 1,000 events of ~1 KB in one POST /v1/events (16 times the topic\'s message size) are 202 and all stored', async () => {
  const events = Array.from({ length: 1_000 }, (_, i) => sized(`one-${i}`, 'u-one', 900));
  const body = JSON.stringify(events);
  assert.ok(body.length > 900_000 && body.length < 1024 * 1024, `a body within the default 1 MiB limit (${body.length} bytes)`);
  const res = await fetch(`${kf.url}/v1/events`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const answer = (await res.json()) as { accepted: number; rejected: unknown[] };
  assert.equal(res.status, 202, JSON.stringify(answer).slice(0, 500));
  assert.equal(answer.accepted, 1_000);
  assert.equal(await eventually(() => storedOf('u-one'), (n) => n >= 1_000, 60_000), 1_000);
});

test('produce bytes - an NDJSON stream of 500 lines of 3 KB for one user is all accepted and stored', async () => {
  const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify(sized(`nd-${i}`, 'u-nd', 3_000)));
  assert.ok(lines.every((l) => l.length > 3_000 && l.length < 3_400));
  const res = await fetch(`${kf.url}/v1/events/stream`, { method: 'POST', body: `${lines.join('\n')}\n`, headers: { 'content-type': 'application/x-ndjson' } });
  const answer = (await res.json()) as { accepted: number; rejectedCount: number };
  assert.equal(res.status, 202, JSON.stringify(answer).slice(0, 500));
  assert.deepEqual({ accepted: answer.accepted, rejected: answer.rejectedCount }, { accepted: 500, rejected: 0 });
  assert.equal(await eventually(() => storedOf('u-nd'), (n) => n >= 500, 60_000), 500);
});

test('produce bytes - an event larger than one Kafka message is a 413 naming the limit and nothing of its request is produced; on the stream only its line is refused', async () => {
  const big = huge('big-1', 'u-big');
  const res = await fetch(`${kf.url}/v1/events`, { method: 'POST', body: JSON.stringify([sized('big-0', 'u-big', 500), big]), headers: { 'content-type': 'application/json' } });
  const answer = (await res.json()) as { accepted: number; error: { code: string; message: string; details: { index: number; maxMessageBytes: number; maxEventBytes: number } } };
  assert.equal(res.status, 413, JSON.stringify(answer).slice(0, 500));
  assert.equal(answer.error.code, 'event_too_large');
  assert.match(answer.error.message, new RegExp(`max\\.message\\.bytes of topic ${iso.topic.replaceAll('.', '\\.')}: ${MAX_MESSAGE_BYTES} bytes`));
  assert.deepEqual({ index: answer.error.details.index, max: answer.error.details.maxMessageBytes, accepted: answer.accepted }, { index: 1, max: MAX_MESSAGE_BYTES, accepted: 0 });
  assert.ok(answer.error.details.maxEventBytes < MAX_MESSAGE_BYTES && answer.error.details.maxEventBytes > MAX_MESSAGE_BYTES - 2_048);

  const lines = [sized('sb-0', 'u-sbig', 500), big, sized('sb-2', 'u-sbig', 500)].map((e) => JSON.stringify(e));
  const s = await fetch(`${kf.url}/v1/events/stream`, { method: 'POST', body: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
  const summary = (await s.json()) as { accepted: number; rejected: { line: number; errors: { message: string }[] }[] };
  assert.equal(s.status, 202);
  assert.equal(summary.accepted, 2);
  assert.deepEqual(summary.rejected.map((r) => r.line), [2]);
  assert.match(summary.rejected[0]!.errors[0]!.message, new RegExp(`${MAX_MESSAGE_BYTES} bytes`));
  assert.equal(await eventually(() => storedOf('u-sbig'), (n) => n >= 2, 30_000), 2);
  // The POST's small event was never produced: the 413 came before anything.
  assert.equal(await storedOf('u-big'), 0);
});
