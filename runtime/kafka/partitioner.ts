// Where a key lives: the same murmur2 partitioner the producer uses (kafkajs's
// DefaultPartitioner, compatible with the Java client), so a lookup by key reaches the
// partition — and so the worker — that consumed that key's events.
import { Partitioners } from 'kafkajs';

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition a message with this key is produced to, among `partitions` partitions.
 *
 * @example
 * partitionOf('u-42', 12); // 0..11, the same as the producer chose
 */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return partitioner({ topic: 'keyflow', partitionMetadata, message: { key, value: null } });
}
