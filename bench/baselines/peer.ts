// Baseline (d), a real peer: Kafka Connect 3.9.1 (the broker's version) in standalone mode
// with Debezium's JDBC sink in upsert mode on the primary key, fed the SAME events (same
// generator, seed and count) on a topic of its own, into `events_peer`.
//
// Rule: the worker is started and every task RUNNING before the clock starts (as keyflow is
// ready before its phase); the clock runs from the first send to the moment a count of the
// table shows every distinct event, like keyflow's window; its CPU is the worker's process.
//
// What it takes: the JDBC sink needs records with schemas, so each message is the
// JsonConverter envelope `{schema, payload}` with the event flattened to the table's columns
// (occurred_at normalized to ISO, properties as a JSON string). The templates are made before
// the clock starts, as keyflow's are; the envelope makes each message ~4.8× larger
// (1,402 bytes on average against 291).
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { testKafka } from '../../test/support/services.ts';
import { loadSettings, startConnectWorker } from '../../compose/local/index.ts';
import type { Sql } from '../../db/index.ts';
import { cpuByComponent, cpuDiff, type Services } from '../cpu.ts';
import { EventFactory, type GeneratorOptions, type Template } from '../generate.ts';
import { Plan } from '../plan.ts';
import { kafkaSender, pump } from '../send.ts';

export type PeerSpec = {
  readonly events: number;
  readonly dupRatio: number;
  readonly batch: number;
  readonly inFlight: number;
  /** Partitions of the peer's topic (as keyflow's) and tasks.max (as keyflow's workers). */
  readonly partitions: number;
  readonly tasks: number;
  readonly generator: GeneratorOptions;
};

export type PeerResult = {
  readonly rowsPerSec: number;
  readonly eventsPerSec: number;
  readonly rows: number;
  readonly messages: number;
  readonly durationMs: number;
  /** CPU seconds of the Connect worker's JVM in the window. */
  readonly cpuSeconds: number;
  /** Where the machine's CPU seconds went in the window (`peer`: the worker's JVM). */
  readonly cpu: Readonly<Record<'peer' | 'postgres' | 'kafka' | 'bench' | 'other' | 'idle' | 'wallSeconds', number>>;
  /** Milliseconds from spawning the JVM to every task RUNNING (not in the window). */
  readonly startMs: number;
  /** Size of the first message (the envelope repeats the schema in every message). */
  readonly firstMessageBytes: number;
  readonly table: string;
  readonly tool: string;
};

export const PEER_TOOL = 'Kafka Connect 3.9.1 standalone + Debezium JDBC sink 3.2.0.Final (JsonConverter schemas.enable=true, insert.mode=upsert, primary.key.mode=record_value on (id, occurred_at))';

const f = (field: string, type: string, optional: boolean, name?: string) => ({ field, type, optional, ...(name !== undefined && { name }) });
/** The Connect schema of one row of events_peer. */
const SCHEMA = {
  type: 'struct', optional: false, name: 'keyflow.bench.Event',
  fields: [
    f('id', 'string', false), f('occurred_at', 'string', false, 'io.debezium.time.ZonedTimestamp'), f('type', 'string', false), f('source', 'string', false),
    f('user_id', 'string', true), f('session_id', 'string', true), f('funnel_stage', 'string', true), f('revenue_amount', 'double', true), f('revenue_currency', 'string', true),
    f('user_age', 'int32', true), f('user_gender', 'string', true), f('user_country', 'string', true), f('user_city', 'string', true),
    f('properties', 'string', true, 'io.debezium.data.Json'), f('partition_key', 'string', false),
  ],
};
const SCHEMA_JSON = JSON.stringify(SCHEMA);

type Raw = {
  id: string; occurredAt: string | number; type: string; source: string; userId?: string; sessionId?: string; funnelStage?: string;
  revenue?: { amount: number; currency: string }; user?: { age?: number; gender?: string; country?: string; city?: string }; properties?: Record<string, unknown>;
};

/** The same events as {@link EventFactory}, each as a JsonConverter envelope split around its sentAt. */
export class EnvelopeFactory extends EventFactory {
  override next(): Template {
    const t = super.next();
    const e = JSON.parse(`${t.head}0${t.tail}`) as Raw;
    const payload = {
      id: e.id, occurred_at: new Date(e.occurredAt).toISOString(), type: e.type, source: e.source, user_id: e.userId ?? null, session_id: e.sessionId ?? null,
      funnel_stage: e.funnelStage ?? null, revenue_amount: e.revenue?.amount ?? null, revenue_currency: e.revenue?.currency ?? null,
      user_age: e.user?.age ?? null, user_gender: e.user?.gender ?? null, user_country: e.user?.country ?? null, user_city: e.user?.city ?? null,
      properties: JSON.stringify(e.properties ?? {}), partition_key: e.userId ?? e.id,
    };
    const json = `{"schema":${SCHEMA_JSON},"payload":${JSON.stringify(payload)}}`;
    const marker = '\\"sentAt\\":0}';
    const at = json.lastIndexOf(marker);
    if (at < 0) throw new Error('peer: sentAt must be the last property');
    return { index: t.index, key: t.key, head: json.slice(0, at + marker.length - 2), tail: json.slice(at + marker.length - 1) };
  }
}

/**
 * Run the peer on `spec`'s events into `events_peer` of the database at `dbUrl` (`sql` is a
 * pool on it); the worker and the topic are gone when this resolves.
 */
export async function peer(sql: Sql, dbUrl: string, brokers: readonly string[], topicBase: string, spec: PeerSpec, services: Services, timeoutMs = 180_000): Promise<PeerResult> {
  await sql`drop table if exists events_peer`;
  await sql`create table events_peer (like events including defaults including indexes)`;
  const tag = randomBytes(4).toString('hex');
  const topic = `${topicBase}.peer.${tag}`;
  const kafka = testKafka('keyflow-bench-peer', { brokers: [...brokers] });
  const admin = kafka.admin();
  await admin.connect();
  const settings = loadSettings(process.env);
  const u = new URL(dbUrl);
  let worker: Awaited<ReturnType<typeof startConnectWorker>> | undefined;
  // The worker's files (properties, offsets, log) stay only when the run failed, to be read.
  const dir = join(settings.servicesDir, 'connect', 'runs', tag);
  let ok = false;
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: spec.partitions }], waitForLeaders: true });
    const plan = new Plan({ factory: new EnvelopeFactory(spec.generator), events: spec.events, dupRatio: spec.dupRatio, seed: spec.generator.seed }).prepare();
    worker = await startConnectWorker(settings, {
      dir,
      brokers,
      // The same fetch size per partition as keyflow's workers; records per poll as a JDBC batch.
      worker: { 'consumer.max.partition.fetch.bytes': String(1024 * 1024), 'consumer.max.poll.records': '2000', 'consumer.auto.offset.reset': 'earliest' },
      connector: {
        name: `keyflow-peer-${tag}`,
        'connector.class': 'io.debezium.connector.jdbc.JdbcSinkConnector',
        'tasks.max': String(spec.tasks),
        topics: topic,
        'connection.url': `jdbc:postgresql://${u.hostname}:${u.port || '5432'}${u.pathname}`,
        'connection.username': decodeURIComponent(u.username),
        'connection.password': decodeURIComponent(u.password),
        'insert.mode': 'upsert',
        'primary.key.mode': 'record_value',
        'primary.key.fields': 'id,occurred_at',
        'delete.enabled': 'false',
        'schema.evolution': 'none',
        'collection.name.format': 'events_peer',
        'use.time.zone': 'UTC',
        'batch.size': '2000',
      },
    });
    const sender = await kafkaSender(brokers, topic);
    const cpuStart = cpuByComponent(worker.pid, services);
    let countedAt: number | undefined;
    let rows = 0;
    let sent;
    try {
      sent = await pump(plan, sender, { rate: 'max', batch: spec.batch, inFlight: spec.inFlight });
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const [r] = await sql<{ n: string }[]>`select count(*)::text as n from events_peer`;
        rows = Number(r?.n ?? 0);
        if (rows >= plan.distinct) {
          countedAt = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await sender.close();
    }
    const cpu = cpuDiff(cpuStart, cpuByComponent(worker.pid, services));
    if (countedAt === undefined) throw new Error(`peer: events_peer holds ${rows} of ${plan.distinct} rows after ${timeoutMs / 1000} s; see ${worker.log}`);
    const durationMs = Math.max(1, countedAt - sent.firstSentAt);
    const first = new EnvelopeFactory(spec.generator).next();
    ok = true;
    return {
      rowsPerSec: (plan.distinct / durationMs) * 1000,
      eventsPerSec: (plan.taken / durationMs) * 1000,
      rows,
      messages: plan.taken,
      durationMs,
      cpuSeconds: cpu.keyflow,
      cpu: { peer: cpu.keyflow, postgres: cpu.postgres, kafka: cpu.kafka, bench: cpu.bench, other: cpu.other, idle: cpu.idle, wallSeconds: Math.round(durationMs / 10) / 100 },
      startMs: worker.startMs,
      firstMessageBytes: Buffer.byteLength(first.head + String(sent.firstSentAt) + first.tail),
      table: 'events_peer (LIKE events INCLUDING DEFAULTS INCLUDING INDEXES; not partitioned)',
      tool: PEER_TOOL,
    };
  } finally {
    await worker?.stop();
    if (ok) await rm(dir, { recursive: true, force: true });
    await admin.deleteTopics({ topics: [topic], timeout: 5_000 }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}
