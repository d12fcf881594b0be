// Why a worker's partitions may make no progress without being stalled, told to every process
// (DESIGN.md, "No silent stop"). Rule: while a worker's partitions are paused by backpressure
// or wait for PostgreSQL to come back, the worker keeps a short-lived Redis key per partition
// saying so; the key expires a few seconds after the excuse ends (or the worker dies), so a
// stale excuse never hides a stall for long. Scaled out, the edge's stall check reads these
// keys; in one process the supervisor's statuses say the same without Redis.
import type { Redis } from 'ioredis';
import type { Config } from '../config/index.ts';
import type { StallExcuse } from '../protocol.ts';

/** How long an excuse outlives its last refresh. */
export const STALL_EXCUSE_TTL_MS = 3_000;
/** How often a worker refreshes its excuse keys. */
export const STALL_EXCUSE_REFRESH_MS = 1_000;

type KeyConfig = Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>;

/** The Redis key of one partition's excuse. */
export function stallExcuseKey(config: KeyConfig, partition: number): string {
  return `${config.redisPrefix}stall-excuse:${config.topic}:${config.groupId}:${partition}`;
}

/** Say, for the next few seconds, that `partitions` make no progress for `excuse`. */
export async function recordStallExcuse(redis: Redis, config: KeyConfig, partitions: readonly number[], excuse: StallExcuse): Promise<void> {
  if (partitions.length === 0) return;
  const pipeline = redis.pipeline();
  for (const p of partitions) pipeline.set(stallExcuseKey(config, p), excuse, 'PX', STALL_EXCUSE_TTL_MS);
  await pipeline.exec();
}

/** The excuses recorded for partitions 0 … partitionCount−1 (absent: none). */
export async function readStallExcuses(redis: Redis, config: KeyConfig, partitionCount: number): Promise<Map<number, StallExcuse>> {
  const out = new Map<number, StallExcuse>();
  if (partitionCount === 0) return out;
  const keys = Array.from({ length: partitionCount }, (_, p) => stallExcuseKey(config, p));
  const values = await redis.mget(...keys);
  values.forEach((v, p) => {
    if (v === 'paused' || v === 'postgres') out.set(p, v);
  });
  return out;
}
