// Baseline (a): how fast a bare kafkajs consumer reads the run's topic, doing nothing with
// the messages. Rule: it joins a group of its own, reads from the beginning, and its rate
// runs from the moment it joined to the moment it had read `target` messages — the join is
// a one-off cost keyflow did not pay inside its own measured window either.
import { randomBytes } from 'node:crypto';

import { testKafka } from '../../test/support/services.ts';

export type RawKafkaResult = {
  readonly eventsPerSec: number;
  readonly messages: number;
  readonly durationMs: number;
  readonly joinMs: number;
};

export async function rawKafka(brokers: readonly string[], topic: string, target: number, timeoutMs = 120_000): Promise<RawKafkaResult> {
  const kafka = testKafka('keyflow-bench-raw', { brokers: [...brokers] });
  // The same fetch size per partition as keyflow's workers.
  const consumer = kafka.consumer({ groupId: `keyflow-bench-raw-${randomBytes(4).toString('hex')}`, maxBytesPerPartition: 1024 * 1024, allowAutoTopicCreation: false });
  const t0 = Date.now();
  let joinedAt: number | undefined;
  let lastAt: number | undefined;
  let count = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joinedAt ??= Date.now();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`raw Kafka consumer read ${count} of ${target} messages within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            if (lastAt !== undefined) return;
            count += batch.messages.length;
            if (count >= target) {
              lastAt = Date.now();
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
  const start = joinedAt ?? t0;
  const durationMs = Math.max(1, (lastAt ?? Date.now()) - start);
  return { eventsPerSec: (count / durationMs) * 1000, messages: count, durationMs, joinMs: start - t0 };
}
