import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { requireServices } from '../../test/support/services.ts';
import { partitionOf } from './partitioner.ts';

let kafka: Kafka;
const topic = `keyflow.t.partitioner.${randomBytes(4).toString('hex')}`;

before(async () => {
  const { kafkaBrokers } = await requireServices();
  kafka = new Kafka({ clientId: 'partitioner-test', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 7 }] });
  await admin.disconnect();
});

after(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.disconnect();
});

test('partitionOf - a key lands in the partition the real producer wrote it to', async () => {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const keys = Array.from({ length: 50 }, (_, i) => `user-${i}-${randomBytes(2).toString('hex')}`);
  const sent = await producer.send({ topic, messages: keys.map((key) => ({ key, value: key })) });
  await producer.disconnect();
  assert.ok(sent.length > 0);
  // Read every message back and compare where it really went with where partitionOf says.
  const consumer = kafka.consumer({ groupId: `${topic}-check` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map<string, number>();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen.set(message.key!.toString(), partition);
        if (seen.size === keys.length) resolve();
      },
    });
  });
  await consumer.disconnect();
  for (const key of keys) assert.equal(partitionOf(key, 7), seen.get(key), key);
  assert.ok(new Set(seen.values()).size > 1, 'keys spread over several partitions');
});
