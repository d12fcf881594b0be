// Consumer lag per partition, fetched with the admin client on a timer in each process that
// runs workers, for the `keyflow_consumer_lag` gauge. Rule: lag is the group's committed
// offset's distance to the high watermark — what a restart would have to replay — and a
// partition the group never committed counts everything retained (high − low).
import type { Admin, Kafka } from 'kafkajs';

/** The lag of one partition. */
export type PartitionLag = { readonly partition: number; readonly lag: number };

/**
 * The group's lag on every partition of the topic.
 *
 * @example
 * const lags = await fetchLag(admin, 'keyflow.events', 'keyflow-runtime');
 */
export async function fetchLag(admin: Admin, topic: string, groupId: string): Promise<PartitionLag[]> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends
    .map((e) => {
      const high = Number(e.high);
      const c = byPartition.get(e.partition);
      const from = c === undefined || c < 0 ? Number(e.low) : c;
      return { partition: e.partition, lag: Math.max(0, high - from) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Fetch the lag every `intervalMs` and hand it to `set`; failures are reported and retried
 * at the next tick. The returned function stops the timer and disconnects.
 *
 * @example
 * const stop = watchLag(kafka, { topic, groupId, intervalMs: 5_000 }, (lags) => …, (e) => log.debug('lag', errorFields(e)));
 */
export function watchLag(
  kafka: Kafka,
  o: { readonly topic: string; readonly groupId: string; readonly intervalMs: number },
  set: (lags: readonly PartitionLag[]) => void,
  onError: (e: unknown) => void,
): () => Promise<void> {
  let admin: Admin | undefined;
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      if (admin === undefined) {
        const a = kafka.admin();
        await a.connect();
        admin = a;
      }
      set(await fetchLag(admin, o.topic, o.groupId));
    } catch (e) {
      onError(e);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs);
  timer.unref();
  void tick();
  return async () => {
    clearInterval(timer);
    await admin?.disconnect().catch(() => undefined);
  };
}
