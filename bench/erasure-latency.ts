// Erasure latency, DELETE → done, measured through a real keyflow (`keyflow all`, a private
// database/topic/group like the tests): first at rest, then while a fixed-rate stream of
// other users' events is produced straight to Kafka. Each erased user has `perUser` stored
// events. Prints one line per phase: count, median, p90, max in ms.
//
//   npx tsx bench/erasure-latency.ts [erasures=10] [rate=10000] [perUser=50]
import { Partitioners } from 'kafkajs';
import { encodeEvent, validateEvent } from '../actors/index.ts';
import { makeEvents } from '../test/support/events.ts';
import { eventually, postJson } from '../test/support/http.ts';
import { isolate, startKeyflow } from '../test/support/keyflow.ts';
import { testKafka } from '../test/support/services.ts';

const [erasures = 10, rate = 10_000, perUser = 50] = process.argv.slice(2).map(Number);
const iso = await isolate();
const kf = await startKeyflow(iso.env);
const kafka = testKafka('keyflow-bench-erasure');
const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
await producer.connect();

async function seed(userId: string): Promise<void> {
  const events = Array.from({ length: perUser }, (_, i) => ({ id: `${userId}-${i}`, type: 'page.view', source: 'web', occurredAt: Date.now() - i * 1000, userId }));
  const r = await postJson(`${kf.url}/v1/events`, { events });
  if (r.status !== 202) throw new Error(`seed: ${r.status}`);
}

async function eraseOnce(userId: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${kf.url}/v1/users/${userId}`, { method: 'DELETE' });
  const { erasureId } = (await res.json()) as { erasureId: string };
  const done = await eventually(async () => ((await (await fetch(`${kf.url}/v1/erasures/${erasureId}`)).json()) as { status: string; eventsErased: number }), (e) => e.status === 'done', 120_000, 10);
  if (done.eventsErased !== perUser) throw new Error(`erased ${done.eventsErased}, expected ${perUser}`);
  return performance.now() - started;
}

async function phase(name: string): Promise<void> {
  const users = Array.from({ length: erasures }, (_, i) => `bench-${name}-${i}`);
  for (const u of users) await seed(u);
  await new Promise((r) => setTimeout(r, 1_000)); // the seeds are stored
  const ms: number[] = [];
  for (const u of users) ms.push(await eraseOnce(u));
  ms.sort((a, b) => a - b);
  const q = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!);
  console.log(`${name}: ${ms.length} erasures of ${perUser} events, DELETE → done ms: median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)}`);
}

try {
  await phase('rest');
  // The stream: `rate` events/s of 300 other users, in 100 ms slices, straight to Kafka.
  let streaming = true;
  let produced = 0;
  const startedAt = Date.now();
  const stream = (async () => {
    for (let slice = 0; streaming; slice++) {
      const batch = makeEvents(rate / 10, { prefix: `s${slice}`, seed: slice + 1 }).map((e) => {
        const v = validateEvent(e);
        if (!v.ok) throw new Error('bad bench event');
        return { key: v.event.userId ?? v.event.id, value: encodeEvent(v.event) };
      });
      await producer.send({ topic: iso.topic, acks: -1, messages: batch });
      produced += batch.length;
      const wait = startedAt + (slice + 1) * 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  await new Promise((r) => setTimeout(r, 3_000)); // the stream is flowing
  await phase('stream');
  streaming = false;
  await stream;
  const seconds = (Date.now() - startedAt) / 1000;
  console.log(`stream: ${produced} events in ${seconds.toFixed(1)} s = ${Math.round(produced / seconds)} events/s produced`);
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  console.log(`stored when the last erasure was done: ${n}`);
} finally {
  await producer.disconnect();
  await kf.stop('SIGTERM');
  await iso.cleanup();
}
