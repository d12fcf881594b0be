// The events topic is created explicitly, never by auto-creation, with the configured
// partition count; a topic that already exists is left as it is (with a warning when its
// partition count differs, since shrinking is impossible and growing moves keys).
import type { Kafka } from 'kafkajs';
import type { Logger } from '../log/index.ts';

/** Create the topic if it does not exist; returns its actual partition count. */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number, replicationFactor: number, log: Logger): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor }],
    });
    if (created) log.info('topic created', { topic, partitions });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    const have = meta.topics[0]?.partitions.length ?? 0;
    if (have !== partitions) log.warn('topic exists with another partition count', { topic, have, configured: partitions });
    return have;
  } finally {
    await admin.disconnect();
  }
}
