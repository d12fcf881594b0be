// The consumer group's lag, from Kafka's own view. Rule: committed offsets and high
// watermarks come from the broker (kafkajs admin: fetchOffsets, fetchTopicOffsets), and a
// partition's owner from the group's current assignment (describeGroups), so nothing here
// can be staler than Kafka itself; the Redis assignment directory only turns a member's
// pid and worker id into the process URL it advertises. Answers are cached for a second so
// that scrapes and requests together cost at most a few admin calls per second.
import { AssignerProtocol, type Admin, type Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { LagReport, PartitionLag } from '../../http/index.ts';
import type { Config } from '../config/index.ts';
import { assignmentKey, type PartitionOwner } from '../worker/assignment.ts';

const CACHE_MS = 1_000;
/** Longest wait for the admin calls (kafkajs retries a broker that is down for much longer). */
const TIMEOUT_MS = 5_000;
/** The client id of a worker thread's consumer (runtime/worker/entry.ts). */
const WORKER_CLIENT_ID = /^keyflow-worker-(\d+)-(\d+)$/;

/** Reads lag for one group and topic. */
export class LagReader {
  readonly #kafka: Kafka;
  readonly #redis: Redis;
  readonly #config: Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>;
  #admin: Promise<Admin> | undefined;
  #cached: { at: number; report: Promise<LagReport> } | undefined;

  constructor(kafka: Kafka, redis: Redis, config: Pick<Config, 'redisPrefix' | 'topic' | 'groupId'>) {
    this.#kafka = kafka;
    this.#redis = redis;
    this.#config = config;
  }

  /** The lag of every partition, at most a second old. */
  read(): Promise<LagReport> {
    const now = Date.now();
    if (this.#cached !== undefined && now - this.#cached.at < CACHE_MS) return this.#cached.report;
    let timer: NodeJS.Timeout | undefined;
    const report = Promise.race([
      this.#read(),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    this.#cached = { at: now, report };
    report.catch(() => {
      if (this.#cached?.report === report) this.#cached = undefined;
    });
    return report;
  }

  async close(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    if (admin !== undefined) await (await admin.catch(() => undefined))?.disconnect();
  }

  #connect(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })().catch((e: unknown) => {
      this.#admin = undefined;
      throw e;
    });
    return this.#admin;
  }

  async #read(): Promise<LagReport> {
    const { topic, groupId } = this.#config;
    const admin = await this.#connect();
    const [committed, watermarks, groups, directory] = await Promise.all([
      admin.fetchOffsets({ groupId, topics: [topic] }),
      admin.fetchTopicOffsets(topic),
      admin.describeGroups([groupId]),
      this.#redis.hgetall(assignmentKey(this.#config)).catch(() => ({}) as Record<string, string>),
    ]);
    const committedOf = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const owners = ownersFrom(groups.groups.find((g) => g.groupId === groupId), topic, directory);
    const partitions: PartitionLag[] = watermarks
      .map((w) => {
        const high = Number(w.high);
        const c = committedOf.get(w.partition);
        const committedOffset = c === undefined || c < 0 ? null : c;
        return { partition: w.partition, committedOffset, highWatermark: high, lag: Math.max(0, high - (committedOffset ?? Number(w.low))), owner: owners.get(w.partition) ?? null };
      })
      .sort((a, b) => a.partition - b.partition);
    return {
      group: groupId,
      topic,
      totalLag: partitions.reduce((s, p) => s + p.lag, 0),
      maxLag: partitions.reduce((m, p) => Math.max(m, p.lag), 0),
      partitions,
    };
  }
}

type Group = Awaited<ReturnType<Admin['describeGroups']>>['groups'][number];

/** Partition → owner, from the group's current assignment (empty while it rebalances). */
function ownersFrom(group: Group | undefined, topic: string, directory: Record<string, string>): Map<number, PartitionLag['owner'] & object> {
  const owners = new Map<number, { process: string; workerId: number }>();
  if (group === undefined || group.state !== 'Stable') return owners;
  for (const m of group.members) {
    if (m.memberAssignment.length === 0) continue;
    const partitions = AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [];
    const id = WORKER_CLIENT_ID.exec(m.clientId);
    const pid = Number(id?.[1] ?? -1);
    const workerId = Number(id?.[2] ?? -1);
    for (const p of partitions) {
      const raw = directory[String(p)];
      const recorded = raw === undefined ? undefined : (JSON.parse(raw) as PartitionOwner);
      const process = recorded !== undefined && recorded.pid === pid && recorded.workerId === workerId ? recorded.url : `${m.clientHost.replace(/^\//, '')} pid ${pid}`;
      owners.set(p, { process, workerId });
    }
  }
  return owners;
}
