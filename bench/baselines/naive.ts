// Baseline (c): the pipeline older systems used — kafkajs eachMessage, JSON.parse, and one
// autocommitted INSERT per event into a table like `events` (not partitioned), no batching,
// no dedup other than the primary key. Rule: it reads the run's topic in a group of its own
// and is timed from its join to its `sample`-th message, like the raw Kafka baseline.
import { randomBytes } from 'node:crypto';

import { testKafka } from '../../test/support/services.ts';
import type { Sql } from '../../db/index.ts';

export type NaiveResult = {
  readonly eventsPerSec: number;
  readonly messages: number;
  readonly durationMs: number;
  readonly sample: number;
  readonly table: string;
};

type Raw = {
  id: string; occurredAt: string | number; type: string; source: string; userId?: string; sessionId?: string; funnelStage?: string;
  revenue?: { amount: number; currency: string }; user?: { age?: number; gender?: string; country?: string; city?: string }; properties?: Record<string, unknown>;
};

export async function naive(sql: Sql, brokers: readonly string[], topic: string, sample: number, timeoutMs = 180_000): Promise<NaiveResult> {
  await sql`drop table if exists events_naive`;
  await sql`create table events_naive (like events including defaults including indexes)`;
  const kafka = testKafka('keyflow-bench-naive', { brokers: [...brokers] });
  const consumer = kafka.consumer({ groupId: `keyflow-bench-naive-${randomBytes(4).toString('hex')}`, allowAutoTopicCreation: false });
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
      timer = setTimeout(() => reject(new Error(`naive pipeline stored ${count} of ${sample} events within ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (lastAt !== undefined || message.value === null) return;
            const e = JSON.parse(message.value.toString('utf8')) as Raw;
            await sql`
              insert into events_naive (id, occurred_at, type, source, user_id, session_id, funnel_stage, revenue_amount, revenue_currency,
                user_age, user_gender, user_country, user_city, properties, partition_key)
              values (${e.id}, ${new Date(e.occurredAt).toISOString()}, ${e.type}, ${e.source}, ${e.userId ?? null}, ${e.sessionId ?? null},
                ${e.funnelStage ?? null}, ${e.revenue?.amount ?? null}, ${e.revenue?.currency ?? null}, ${e.user?.age ?? null}, ${e.user?.gender ?? null},
                ${e.user?.country ?? null}, ${e.user?.city ?? null}, ${e.properties === undefined ? null : JSON.stringify(e.properties)}::jsonb, ${e.userId ?? e.id})
              on conflict do nothing`;
            if (++count >= sample) {
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
  return { eventsPerSec: (count / durationMs) * 1000, messages: count, durationMs, sample, table: 'events_naive (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES; not partitioned)' };
}
