import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { Kafka, logLevel } from 'kafkajs';
import { requireServices } from '../../test/support/services.ts';
import { createLogger } from '../log/index.ts';
import { createKafka } from './client.ts';
import { EventPublisher, EventTooLargeError, KafkaUnavailableError } from './publisher.ts';
import { MessageTrust, SIGNATURE_HEADER } from './trust.ts';
import { COMMAND_HEADER, ERASE_USER } from '../../actors/index.ts';

const topic = `keyflow.t.publisher.${randomBytes(4).toString('hex')}`;
const trustTopic = `${topic}.trust`;
/** A topic whose record batches may hold at most 16 KiB. */
const smallTopic = `${topic}.small`;
let kafkaBrokers: readonly string[] = [];
let admin: ReturnType<Kafka['admin']>;
let publisher: EventPublisher;
const log = createLogger('silent');

before(async () => {
  ({ kafkaBrokers } = await requireServices());
  const kafka = createKafka({ kafkaBrokers: [...kafkaBrokers] }, 'publisher-test', log);
  admin = new Kafka({ clientId: 'publisher-test-admin', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3 }, { topic: trustTopic, numPartitions: 1 }, { topic: smallTopic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }] });
  publisher = new EventPublisher(kafka, { topic, timeoutMs: 10_000 });
  await publisher.connect();
});

after(async () => {
  await publisher?.close();
  await admin?.deleteTopics({ topics: [topic, trustTopic, smallTopic] }).catch(() => undefined);
  await admin?.disconnect();
});

const encoded = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, key: `u-${i % 5}`, value: JSON.stringify({ id: `${prefix}-${i}` }) }));

test('publisher - concurrent publishes are all acknowledged, coalesced into fewer produce requests', async () => {
  const before = publisher.sends;
  await Promise.all(Array.from({ length: 40 }, (_, i) => publisher.publish(encoded(25, `p${i}`))));
  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((sum, p) => sum + Number(p.high), 0);
  assert.equal(total, 1_000, 'every message is in the topic');
  const sends = publisher.sends - before;
  assert.ok(sends < 40, `40 publishes went out in ${sends} produce requests`);
});

test('publisher - publishes sharing one request signal leave no listener on it (nothing of theirs kept alive)', async () => {
  const request = new AbortController();
  for (let i = 0; i < 20; i++) await publisher.publish(encoded(10, `sig${i}`), request.signal);
  assert.equal(getEventListeners(request.signal, 'abort').length, 0);
  // The signal still aborts a publish in flight.
  const aborted = new AbortController();
  const pending = publisher.publish(encoded(1, 'abort'), aborted.signal);
  aborted.abort();
  await pending.catch((e: unknown) => assert.ok(e instanceof KafkaUnavailableError));
  assert.equal(getEventListeners(aborted.signal, 'abort').length, 0);
});

test('publisher - an unreachable Kafka rejects with KafkaUnavailableError instead of hanging', async () => {
  // No client retries, so the test's process is not kept alive by a reconnect loop.
  const unreachable = new Kafka({ clientId: 'publisher-test-dead', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const dead = new EventPublisher(unreachable, { topic, timeoutMs: 2_000 });
  const started = Date.now();
  await assert.rejects(dead.publish(encoded(1, 'dead')), (e: unknown) => e instanceof KafkaUnavailableError && e.code === 'KEYFLOW_KAFKA_UNAVAILABLE');
  assert.ok(Date.now() - started < 30_000);
  await dead.close();
});

test("publisher - with the deployment's secret every event is signed as an event and a command as its command; the secret never travels; without one nothing is signed", async () => {
  const secret = 'publisher-test-edge-token';
  const trust = new MessageTrust(secret);
  const kafka = createKafka({ kafkaBrokers: [...kafkaBrokers] }, 'publisher-test-trust', log);
  const edge = new EventPublisher(kafka, { topic: trustTopic, timeoutMs: 10_000, trust });
  const plain = new EventPublisher(kafka, { topic: trustTopic, timeoutMs: 10_000 });
  const consumer = kafka.consumer({ groupId: `publisher-test-${randomBytes(4).toString('hex')}` });
  try {
    await edge.publish(encoded(3, 'edge'));
    await edge.publish([{ id: 'erase-1', key: 'u-1', value: '{}' }], undefined, { [COMMAND_HEADER]: ERASE_USER });
    await plain.publish(encoded(1, 'plain'));
    const seen = new Map<string, string>();
    await consumer.connect();
    await consumer.subscribe({ topic: trustTopic, fromBeginning: true });
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const isCommand = message.headers?.[COMMAND_HEADER] !== undefined;
          const id = isCommand ? 'command' : (JSON.parse(String(message.value)) as { id: string }).id;
          const asEvent = trust.verify(message.headers, message.key, message.value, { event: true });
          const asCommand = trust.verify(message.headers, message.key, message.value, { command: ERASE_USER });
          const travels = Object.values(message.headers ?? {}).some((v) => String(v).includes(secret));
          seen.set(id, `${asEvent ? 'event' : asCommand ? 'command' : 'unsigned'}${travels ? ' +secret' : ''}`);
          if (seen.size === 5) resolve();
        },
      });
    });
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${[...seen.keys()].join(', ')} arrived`)), 30_000).unref())]);
    assert.deepEqual(Object.fromEntries(seen), { 'edge-0': 'event', 'edge-1': 'event', 'edge-2': 'event', command: 'command', 'plain-0': 'unsigned' });
    assert.equal(SIGNATURE_HEADER, 'keyflow-signature');
  } finally {
    await consumer.disconnect();
    await edge.close();
    await plain.close();
  }
});

test('publisher - one key\'s publish far over the topic\'s max.message.bytes goes out in several sends, each batch under it, all acknowledged in order', async () => {
  const kafka = createKafka({ kafkaBrokers: [...kafkaBrokers] }, 'publisher-test-small', log);
  const small = new EventPublisher(kafka, { topic: smallTopic, timeoutMs: 20_000, partitionCount: 2 });
  try {
    await small.connect();
    assert.deepEqual(small.messageLimit, { maxMessageBytes: 16_384, source: `max.message.bytes of topic ${smallTopic}` });
    const events = Array.from({ length: 200 }, (_, i) => ({ id: `big-${i}`, key: 'u-one', value: JSON.stringify({ id: `big-${i}`, pad: 'x'.repeat(1_000) }) }));
    const before = small.sends;
    await small.publish(events);
    const sends = small.sends - before;
    // ~200 KB for one partition, at most 16 KiB per batch: at least 13 sends.
    assert.ok(sends >= 13 && sends <= 20, `${sends} sends`);
    const offsets = await admin.fetchTopicOffsets(smallTopic);
    assert.equal(offsets.reduce((sum, p) => sum + Number(p.high), 0), 200);
  } finally {
    await small.close();
  }
});

test('publisher - an event larger than one message of the topic is refused before anything of its publish is produced', async () => {
  const kafka = createKafka({ kafkaBrokers: [...kafkaBrokers] }, 'publisher-test-small', log);
  const small = new EventPublisher(kafka, { topic: smallTopic, timeoutMs: 20_000, partitionCount: 2 });
  try {
    await small.connect();
    const high = async () => (await admin.fetchTopicOffsets(smallTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    const before = await high();
    const ok = { id: 'fits', key: 'u-2', value: '{"id":"fits"}' };
    const huge = { id: 'huge', key: 'u-2', value: JSON.stringify({ id: 'huge', pad: 'x'.repeat(17_000) }) };
    await assert.rejects(small.publish([ok, huge]), (e: unknown) => e instanceof EventTooLargeError && e.index === 1 && e.maxEventBytes < 16_384 && e.message.includes(`max.message.bytes of topic ${smallTopic}: 16384 bytes`));
    const fitting = small.maxEventBytes!;
    assert.ok(fitting > 14_000 && fitting < 16_384, String(fitting));
    await small.publish([ok]);
    assert.equal(await high(), before + 1);
  } finally {
    await small.close();
  }
});
