// What the store holds, for exactness checks; the store and Redis the live-view tests open.
import { Redis } from 'ioredis';
import { ensurePartitions, type Sql } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import { serviceUrls } from './services.ts';

/** Rows in events, and the sum of events over the rollups. */
export async function storedCounts(sql: Sql): Promise<{ rows: number; rolledUp: number }> {
  const [r] = await sql<[{ rows: number; rolled: number }]>`
    select (select count(*)::int from events) as rows, (select coalesce(sum(events), 0)::int from rollups_minute) as rolled`;
  return { rows: r.rows, rolledUp: r.rolled };
}

/** A fresh database with partitions around `now`, and a Redis client: what the live-view tests share. */
export async function openStoreAndRedis(now: Date = new Date()): Promise<{ db: TestDatabase; redis: Redis }> {
  const db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 1, now });
  return { db, redis: new Redis(serviceUrls().redisUrl) };
}

/** Delete the Redis keys under `prefix`, disconnect, and drop the database. */
export async function closeStoreAndRedis(db: TestDatabase | undefined, redis: Redis | undefined, prefix: string): Promise<void> {
  if (redis !== undefined) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
  await db?.drop();
}
