// The partition → process directory in Redis. Rule: every worker writes the partitions it
// was assigned at each rebalance, so in a scaled deployment the edge can find the process
// that owns a key's partition and ask it over its internal HTTP port.
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';

/** Where a partition's owner answers. */
export type PartitionOwner = { readonly url: string; readonly workerId: number; readonly pid: number; readonly at: string };

/** The Redis hash of one topic and group's assignment. */
export function assignmentKey(config: Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>): string {
  return `${config.redisPrefix}assignment:${config.topic}:${config.groupId}`;
}

/** Record that `workerId` of the process at `url` now owns `partitions`. */
export async function recordAssignment(redis: Redis, config: Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>, url: string, workerId: number, partitions: readonly number[]): Promise<void> {
  if (partitions.length === 0) return;
  const owner: PartitionOwner = { url, workerId, pid: process.pid, at: new Date().toISOString() };
  const fields = partitions.flatMap((p) => [String(p), JSON.stringify(owner)]);
  await redis.hset(assignmentKey(config), ...fields);
}

/** The recorded owner of one partition, if any. */
export async function ownerOf(redis: Redis, config: Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>, partition: number): Promise<PartitionOwner | undefined> {
  const raw = await redis.hget(assignmentKey(config), String(partition));
  return raw === null ? undefined : (JSON.parse(raw) as PartitionOwner);
}
