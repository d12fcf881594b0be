// The real services answer the way the application will use them: a message goes through
// Kafka, rows through PostgreSQL, a key through Redis. If one of these fails, every other
// integration test would fail for the same reason; this file says so first and plainly.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Partitioners } from 'kafkajs';
import postgres from 'postgres';
import { requireServices, type ServiceUrls, testKafka } from './support/services.ts';

let urls: ServiceUrls;
before(async () => {
  urls = await requireServices();
});

test('kafka - a message produced to a new topic is consumed back unchanged', async () => {
  const kafka = testKafka('keyflow-smoke', { brokers: [...urls.kafkaBrokers] });
  const topic = `keyflow.smoke.${randomUUID()}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: `keyflow-smoke-${randomUUID()}` });
  let timer: NodeJS.Timeout | undefined;
  try {
    await admin.connect();
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true }), true);
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'u-42', value: JSON.stringify({ id: 'e-1', type: 'click' }) }] });

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string }>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no message consumed within 30 s')), 30_000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            resolve({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
          },
        })
        .catch(reject);
    });
    assert.deepEqual(received, { key: 'u-42', value: '{"id":"e-1","type":"click"}' });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.disconnect();
  }
});

test('postgres - rows inserted into a table are selected back with their types', async () => {
  const sql = postgres(urls.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`create temporary table smoke (id int primary key, name text not null, at timestamptz not null)`;
    const at = new Date('2026-11-20T12:00:00Z');
    await sql`insert into smoke ${sql([{ id: 1, name: 'one', at }, { id: 2, name: 'two', at }])}`;
    const rows = await sql<{ id: number; name: string; at: Date }[]>`select id, name, at from smoke order by id`;
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        { id: 1, name: 'one', at },
        { id: 2, name: 'two', at },
      ],
    );
  } finally {
    await sql.end({ timeout: 5 });
  }
});

test('redis - a value SET under a key is returned by GET', async () => {
  const redis = new Redis(urls.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const key = `keyflow:smoke:${randomUUID()}`;
  try {
    await redis.connect();
    assert.equal(await redis.set(key, 'hello', 'EX', 60), 'OK');
    assert.equal(await redis.get(key), 'hello');
  } finally {
    await redis.del(key);
    redis.disconnect();
  }
});
