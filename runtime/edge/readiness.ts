// Readiness of the process's dependencies. Rule: a check answers within its timeout, and
// results are cached briefly so that a burst of probes costs one round of checks. Redis only
// feeds live views, so Redis down leaves the process ready but says it is degraded
// (checks.redis = { ok: false, degraded: true }): ingestion and reports go on without it,
// and an orchestrator must not take traffic away for it.
import type { Kafka, Admin } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/index.ts';
import type { Readiness } from '../../http/index.ts';

type Check = () => Promise<{ ok: boolean; detail?: string }>;

/** Dependencies whose loss degrades keyflow without making it unready. */
const OPTIONAL: ReadonlySet<string> = new Set(['redis']);

async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const guard = (name: string, ms: number, check: Check): Check => async () => {
  try {
    return await within(ms, check());
  } catch (e) {
    return { ok: false, detail: `${name}: ${(e as Error).message}` };
  }
};

export type ReadinessSources = {
  readonly sql: Sql;
  readonly redis: Redis;
  readonly kafka: Kafka;
  /** The local workers, when this process runs them. */
  readonly workers?: () => { ok: boolean; detail: string };
  /** Stalled partitions of the whole group (DESIGN.md, "No silent stop"), named in the detail. */
  readonly partitions?: () => { ok: boolean; detail: string };
};

/** A readiness probe over Postgres, Redis, Kafka and (optionally) the local workers. */
export function createReadiness(sources: ReadinessSources, cacheMs = 1_000): { readiness(): Promise<Readiness>; close(): Promise<void> } {
  let admin: Admin | undefined;
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  const checks: Record<string, Check> = {
    postgres: guard('postgres', 2_000, async () => {
      await sources.sql`select 1`;
      return { ok: true };
    }),
    redis: guard('redis', 1_000, async () => {
      // Redis only feeds live views: when it is down keyflow still ingests, but says so.
      const pong = await sources.redis.ping();
      return { ok: pong === 'PONG' };
    }),
    kafka: guard('kafka', 3_000, async () => {
      if (admin === undefined) {
        admin = sources.kafka.admin();
        await admin.connect();
      }
      const cluster = await admin.describeCluster();
      return { ok: cluster.brokers.length > 0, detail: `${cluster.brokers.length} broker(s)` };
    }),
  };
  const workers = sources.workers;
  if (workers !== undefined) checks['workers'] = async () => workers();
  const partitions = sources.partitions;
  if (partitions !== undefined) checks['partitions'] = async () => partitions();

  const run = async (): Promise<Readiness> => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((n) => checks[n]!()));
    const out: Record<string, { ok: boolean; detail?: string; degraded?: boolean }> = {};
    names.forEach((n, i) => {
      const r = results[i]!;
      out[n] = !r.ok && OPTIONAL.has(n) ? { ...r, degraded: true } : r;
    });
    return { ready: names.every((n, i) => results[i]!.ok || OPTIONAL.has(n)), checks: out };
  };
  return {
    readiness: () => {
      const now = Date.now();
      if (cached === undefined || now - cached.at >= cacheMs) cached = { at: now, value: run() };
      return cached.value;
    },
    close: async () => {
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
