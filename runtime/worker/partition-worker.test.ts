// A PartitionWorker against the real Kafka, PostgreSQL and Redis: disposing of it (`await
// using`) drains it — what it consumed is flushed, its offsets are committed — and stops it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { ensurePartitions, migrate } from '../../db/index.ts';
import { createMetrics } from '../../otel/index.ts';
import { makeEvents } from '../../test/support/events.ts';
import { eventually } from '../../test/support/http.ts';
import { produceEvents, testProducer } from '../../test/support/kafka.ts';
import { isolate, type Isolated } from '../../test/support/keyflow.ts';
import { loadConfig } from '../config/index.ts';
import { createKafka, ensureTopic } from '../kafka/index.ts';
import { createLogger } from '../log/index.ts';
import { PartitionWorker } from './partition-worker.ts';

const EVENTS = 120;
let iso: Isolated;
let redis: Redis;

before(async () => {
  // Neither the age nor the size of what is pending triggers a flush: only the drain does.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '600000', KEYFLOW_FLUSH_MAX_EVENTS: '100000', KEYFLOW_PARTITIONS: '2' });
  await migrate(iso.db.sql);
  await ensurePartitions(iso.db.sql, { aheadDays: 1, now: new Date() });
  redis = new Redis(iso.env['REDIS_URL']!);
});
after(async () => {
  const keys = await redis.keys(`${iso.env['KEYFLOW_REDIS_PREFIX']!}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await iso?.cleanup();
});

test('partition worker - `await using` drains at the end of its scope: consumed events stored, offsets committed, state stopped', async () => {
  const config = loadConfig(iso.env);
  const log = createLogger('silent');
  const kafka = createKafka(config, 'keyflow-test-partition-worker', log);
  await ensureTopic(kafka, config.topic, config.partitions, config.replicationFactor, log);
  const { metrics } = createMetrics();
  const producer = await testProducer();
  let disposed: PartitionWorker | undefined;
  try {
    await using worker = new PartitionWorker({ workerId: 7, config, kafka, sql: iso.db.sql, redis, log, metrics, tracingEnabled: false, partitionCount: config.partitions });
    disposed = worker;
    await worker.start();
    assert.equal(worker.state, 'running');
    await produceEvents(producer, config.topic, makeEvents(EVENTS, { prefix: 'pw' }));
    await eventually(async () => worker.status().pendingEvents, (n) => n === EVENTS, 30_000);
    const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
    assert.equal(n, 0, 'nothing flushed before the scope ends');
  } finally {
    await producer.disconnect();
  }
  assert.equal(disposed?.state, 'stopped');
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  assert.equal(n, EVENTS, 'the drain stored every consumed event');
  const admin = new Kafka({ clientId: 'keyflow-test-offsets', brokers: [...config.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: config.groupId, topics: [config.topic] });
    const committed = offsets!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    assert.equal(committed, EVENTS, 'the drain committed the offset after every stored message');
  } finally {
    await admin.disconnect();
  }
});
