// Bytes, not counts, on the consume side (DESIGN.md, Guarantees; issue 19 point 5): with
// keyflow stopped, the topic fills with 600 non-JSON messages of 900 KB and 4,000 valid
// events of ~197 KB (64 properties of 1,024 three-byte characters, the most the schema
// allows); keyflow then starts on that backlog. Every valid event is stored, every junk
// message is dead-lettered with a bounded prefix, its full length and SHA-256, no worker is
// restarted, and each worker thread's V8 heap (keyflow_thread_heap_used_bytes, scraped every
// 200 ms while it works) stays within its pending-bytes cap + its fetch bytes + 64 MiB.
//
// So that the pending-bytes cap is what bounds the workers (a store that keeps up would let
// nothing pile up), the test holds a SHARE lock on `users` in keyflow's database when it
// starts: every flush waits, the workers take messages in until backpressure pauses all
// their partitions on bytes, and only then is the lock released. Without the byte cap they
// would take in up to KEYFLOW_MAX_PENDING_EVENTS (20,000) events, ~790 MB of them.
//
// Cheap by construction: the values are built once and shared, produced by kafkajs in
// requests of ~4 MB cut by keyflow's own SendPlan (one record batch per partition under the
// broker's limit), and the test only waits for states (no timed assertion).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
import { migrate } from '../db/index.ts';
import { partitionOf } from '../runtime/kafka/index.ts';
import { headerBytes, recordBytes, SendPlan } from '../runtime/kafka/produce-split.ts';
import { eventually } from './support/http.ts';
import { metricValue } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { serviceUrls, testEnv } from './support/services.ts';

const PARTITIONS = 4;
const JUNK = 600;
const JUNK_BYTES = 900 * 1024;
const EVENTS = 4_000;
const USERS = 400;
const MiB = 1024 * 1024;
/** The configuration under test: keyflow's defaults, written out so the bound below is explicit. */
const MAX_PENDING_BYTES = 32 * MiB;
const FETCH_MAX_BYTES = 10 * MiB;
const DEAD_LETTER_MAX_BYTES = 64 * 1024;
const HEAP_BUDGET = MAX_PENDING_BYTES + FETCH_MAX_BYTES + 64 * MiB;

let iso: Isolated;
let kf: KeyflowProcess | undefined;

before(async () => {
  iso = await isolate({
    KEYFLOW_PARTITIONS: String(PARTITIONS),
    KEYFLOW_WORKERS: '2',
    KEYFLOW_MAX_PENDING_BYTES: String(MAX_PENDING_BYTES),
    KEYFLOW_FETCH_MAX_BYTES: String(FETCH_MAX_BYTES),
    KEYFLOW_DEAD_LETTER_MAX_BYTES: String(DEAD_LETTER_MAX_BYTES),
  });
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

// 1,024 '€' (3 bytes in UTF-8 each) per property, 64 properties: ~197 KB per event.
const PROPERTIES = JSON.stringify(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, '€'.repeat(1024)])));
const JUNK_VALUE = Buffer.alloc(JUNK_BYTES, 'not json; ');
const JUNK_SHA256 = createHash('sha256').update(JUNK_VALUE).digest('hex');

/** The backlog, junk and events interleaved, as the partition key would place them. */
function* backlog(occurredAt: number): Generator<Message & { key: string }> {
  const perJunk = Math.floor(EVENTS / JUNK);
  let junk = 0;
  for (let i = 0; i < EVENTS; i++) {
    const userId = `u-${i % USERS}`;
    yield { key: userId, value: `{"id":"big-${i}","type":"page.view","source":"bytes-test","occurredAt":${occurredAt},"userId":"${userId}","properties":${PROPERTIES}}` };
    if (i % perJunk === 0 && junk < JUNK) yield { key: `junk-${junk++}`, value: JUNK_VALUE };
  }
  while (junk < JUNK) yield { key: `junk-${junk++}`, value: JUNK_VALUE };
}

/** Produce the backlog in requests of ~4 MB, each partition's batch under the broker's limit, 3 requests in flight. */
async function produceBacklog(topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'consume-bytes-test', brokers: [...serviceUrls(testEnv()).kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const inFlight = new Set<Promise<unknown>>();
    const send = async (messages: Message[]): Promise<void> => {
      while (inFlight.size >= 3) await Promise.race(inFlight);
      const p = producer.send({ topic, acks: -1, messages }).finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    let plan = new SendPlan(1_048_588, 4 * MiB, 10_000);
    let batch: Message[] = [];
    const noHeaders = headerBytes({});
    for (const m of backlog(Date.now() - 60_000)) {
      const bytes = recordBytes(m.key, '', noHeaders) + (typeof m.value === 'string' ? Buffer.byteLength(m.value) : (m.value as Buffer).byteLength);
      if (!plan.add(partitionOf(m.key, PARTITIONS), bytes)) {
        await send(batch);
        plan = new SendPlan(1_048_588, 4 * MiB, 10_000);
        plan.add(partitionOf(m.key, PARTITIONS), bytes);
        batch = [];
      }
      batch.push(m);
    }
    await send(batch);
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
}

type Progress = { events: number; dead: number };

test('consume bytes - a backlog of 600 × 900 KB junk and 4,000 × 197 KB events is stored and dead-lettered whole, with no worker restart and each worker heap within pending bytes + fetch bytes + 64 MiB', { timeout: 15 * 60_000 }, async () => {
  const started = Date.now();
  await produceBacklog(iso.topic);
  const produced = Date.now();

  // The lock is taken on keyflow's schema, migrated here first (keyflow's own migrate then applies nothing).
  await migrate(iso.db.sql);
  const holder = await iso.db.sql.reserve();
  await holder`begin`;
  await holder`lock table users in share mode`;
  let locked = true;
  const release = async (): Promise<void> => {
    if (!locked) return;
    locked = false;
    await holder`rollback`;
    holder.release();
  };

  kf = await startKeyflow(iso.env);
  const peak = new Map<string, number>();
  let scrapes = 0;
  let lastMetrics = '';
  const scrape = async (): Promise<void> => {
    const res = await fetch(`${kf!.url}/metrics`);
    lastMetrics = await res.text();
    for (const m of lastMetrics.matchAll(/^keyflow_thread_heap_used_bytes\{thread="([^"]+)"\} ([0-9.e+-]+)$/gm)) {
      peak.set(m[1]!, Math.max(peak.get(m[1]!) ?? 0, Number(m[2])));
    }
    scrapes++;
  };
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      await scrape().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  const progress = (): Promise<Progress> =>
    iso.db.sql<[Progress]>`select (select count(*)::int from events) as events, (select count(*)::int from dead_letters) as dead`.then((r) => ({ ...r[0] }));
  let done: Progress;
  let pausedAt: { pendingBytes: number; pendingEvents: number };
  try {
    // Both workers paused every partition they hold: backpressure on bytes, with nothing stored yet.
    const paused = await eventually(async () => {
      await scrape();
      return {
        paused: metricValue(lastMetrics, 'keyflow_paused_partitions'),
        pendingBytes: metricValue(lastMetrics, 'keyflow_pending_bytes'),
        pendingEvents: metricValue(lastMetrics, 'keyflow_pending_events'),
        restarts: metricValue(lastMetrics, 'keyflow_worker_restarts_total'),
      };
    }, (m) => m.paused === PARTITIONS, 5 * 60_000, 250);
    assert.equal(paused.paused, PARTITIONS, `backpressure paused every partition (last seen ${JSON.stringify(paused)})`);
    pausedAt = paused;
    assert.deepEqual(await progress(), { events: 0, dead: 0 }, 'nothing was stored while the lock was held');
    await release();
    done = await eventually(progress, (p) => p.events >= EVENTS && p.dead >= JUNK, 12 * 60_000, 1_000);
  } finally {
    scraping = false;
    await scraper;
    await release();
  }
  const consumed = Date.now();
  await scrape();

  assert.deepEqual(done, { events: EVENTS, dead: JUNK }, 'every valid event stored, every junk message dead-lettered');
  // Per worker, the cap plus the one message that crossed it (a junk dead letter weighs its 64 KiB, an event ~197 KB).
  assert.ok(pausedAt.pendingBytes <= 2 * (MAX_PENDING_BYTES + 256 * 1024), `pending bytes of both workers when paused: ${pausedAt.pendingBytes}`);
  assert.ok(pausedAt.pendingEvents < EVENTS / 2, `the workers held back most of the backlog (${pausedAt.pendingEvents} events pending when paused)`);
  const [dl] = await iso.db.sql<[{ reasons: string[]; kept: number; lengths: string[]; shas: string[] }]>`
    select array_agg(distinct reason) as reasons, max(octet_length(raw))::int as kept,
      array_agg(distinct raw_length::text) as lengths, array_agg(distinct encode(raw_sha256, 'hex')) as shas
    from dead_letters`;
  assert.deepEqual({ ...dl }, { reasons: ['too-large'], kept: DEAD_LETTER_MAX_BYTES, lengths: [String(JUNK_BYTES)], shas: [JUNK_SHA256] });
  const [ev] = await iso.db.sql<[{ users: number; props: number }]>`select count(distinct user_id)::int as users, min((select count(*) from jsonb_object_keys(properties)))::int as props from events`;
  assert.deepEqual({ ...ev }, { users: USERS, props: 64 });
  assert.equal(metricValue(lastMetrics, 'keyflow_worker_restarts_total'), 0, 'no worker was restarted');

  const workers = [...peak].filter(([thread]) => thread !== 'main');
  assert.equal(workers.length, 2, `a heap figure for each worker thread (${[...peak.keys()].join(', ')})`);
  const report = workers.map(([thread, bytes]) => `${thread} ${(bytes / MiB).toFixed(1)} MiB`).join(', ');
  console.log(`consume bytes: produced the backlog in ${((produced - started) / 1000).toFixed(1)} s, keyflow stored it in ${((consumed - produced) / 1000).toFixed(1)} s; paused at ${(pausedAt.pendingBytes / MiB).toFixed(1)} MiB / ${pausedAt.pendingEvents} events pending; peak worker heap over ${scrapes} scrapes: ${report} (budget ${(HEAP_BUDGET / MiB).toFixed(0)} MiB)`);
  for (const [thread, bytes] of workers) assert.ok(bytes <= HEAP_BUDGET, `${thread} peaked at ${(bytes / MiB).toFixed(1)} MiB, over ${(HEAP_BUDGET / MiB).toFixed(0)} MiB`);
});
