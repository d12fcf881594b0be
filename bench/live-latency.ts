// Live-view latency, POST → seen, measured through a real keyflow (`keyflow all`, a private
// database/topic/group/Redis prefix like the tests). Each round posts `batch` events of a type
// no other round uses, occurring now, and times from the 202 to the first moment that
//   - an `event: summary` frame of GET /v1/stream (what the console's tiles show) lists the
//     type with all `batch` events in topTypes,
//   - GET /v1/analytics/summary (polled every 20 ms) does the same,
//   - GET /v1/reports/events (the store, polled every 20 ms) counts them all.
// The stream sends a summary once a second, so its figure includes up to a second of waiting
// for the next frame (rounds start at random phases of it). A summary is taken at the end of
// the last whole second, so an event occurring now counts from the next second on. Optionally a background load of `rate` events/s goes straight to Kafka.
// Prints one line per measure: count, median, p90, max in ms.
//
//   npx tsx bench/live-latency.ts [rounds=20] [batch=50] [rate=0]
import { Partitioners } from 'kafkajs';
import { encodeEvent, validateEvent } from '../actors/index.ts';
import { makeEvents } from '../test/support/events.ts';
import { postJson } from '../test/support/http.ts';
import { isolate, startKeyflow } from '../test/support/keyflow.ts';
import { readSse, type Sse, type Summary } from '../test/support/live.ts';
import { testKafka } from '../test/support/services.ts';

const [rounds = 20, batch = 50, rate = 0] = process.argv.slice(2).map(Number);
const POLL_MS = 20;
const DEADLINE_MS = 120_000;
const iso = await isolate({ KEYFLOW_LIVE_RECONCILE_MS: '1000' });
const kf = await startKeyflow(iso.env);
const ac = new AbortController();
const frames: Sse[] = [];
const res = await fetch(`${kf.url}/v1/stream`, { signal: ac.signal });
void readSse(res, frames);

const shows = (s: Summary, type: string) => s.topTypes.some((t) => t.type === type && t.events === batch);

/** Resolves with the ms from `t0` to the first time `seen()` holds (checked every POLL_MS). */
async function until(t0: number, seen: () => Promise<boolean> | boolean): Promise<number> {
  for (;;) {
    if (await seen()) return performance.now() - t0;
    if (performance.now() - t0 > DEADLINE_MS) throw new Error(`not seen within ${DEADLINE_MS} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function round(i: number): Promise<{ stream: number; summary: number; report: number }> {
  // Equal counts list by type ascending, at most 10: each round's type sorts before the earlier ones.
  const type = `live.probe.${String(999_999 - i).padStart(6, '0')}`;
  const now = Date.now();
  const events = Array.from({ length: batch }, (_, j) => ({ id: `p-${i}-${j}`, type, source: 'bench', occurredAt: now, userId: `p-${j % 10}` }));
  const seenFrames = frames.length;
  const r = await postJson(`${kf.url}/v1/events`, { events });
  if (r.status !== 202) throw new Error(`post: ${r.status}`);
  const t0 = performance.now();
  const [stream, summary, report] = await Promise.all([
    until(t0, () => frames.slice(seenFrames).some((f) => f.event === 'summary' && shows(JSON.parse(f.data) as Summary, type))),
    until(t0, async () => shows((await (await fetch(`${kf.url}/v1/analytics/summary`)).json()) as Summary, type)),
    until(t0, async () => ((await (await fetch(`${kf.url}/v1/reports/events?type=${type}&from=${now - 60_000}&to=${now + 60_000}`)).json()) as { total: number }).total === batch),
  ]);
  return { stream, summary, report };
}

const kafka = testKafka('keyflow-bench-live');
const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
let streaming = rate > 0;
let produced = 0;
try {
  await producer.connect();
  const startedAt = Date.now();
  const load = (async () => {
    for (let slice = 0; streaming; slice++) {
      const messages = makeEvents(rate / 10, { prefix: `bg${slice}`, seed: slice + 1, spanMs: 5_000 }).map((e) => {
        const v = validateEvent(e);
        if (!v.ok) throw new Error('bad bench event');
        return { key: v.event.userId ?? v.event.id, value: encodeEvent(v.event) };
      });
      await producer.send({ topic: iso.topic, acks: -1, messages });
      produced += messages.length;
      const wait = startedAt + (slice + 1) * 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const ms = { stream: [] as number[], summary: [] as number[], report: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Rounds start at random phases of the once-a-second summary frames, not right after one.
    await new Promise((r) => setTimeout(r, Math.random() * 1_000));
    const r = await round(i);
    ms.stream.push(r.stream);
    ms.summary.push(r.summary);
    ms.report.push(r.report);
  }
  streaming = false;
  await load;
  const line = (name: string, xs: number[]) => {
    xs.sort((a, b) => a - b);
    const q = (p: number) => Math.round(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!);
    console.log(`${name}: ${xs.length} rounds of ${batch} events, POST 202 → seen ms: median ${q(0.5)}, p90 ${q(0.9)}, max ${q(1)}`);
  };
  line('stream summary frame (console tiles)', ms.stream);
  line('GET /v1/analytics/summary', ms.summary);
  line('GET /v1/reports/events (the store)', ms.report);
  if (rate > 0) console.log(`background load: ${produced} events in ${((Date.now() - startedAt) / 1000).toFixed(1)} s straight to Kafka`);
} finally {
  ac.abort();
  await producer.disconnect();
  await kf.stop('SIGTERM');
  await iso.cleanup();
}
