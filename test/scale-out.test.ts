// Scale-out on one machine: `keyflow edge` in front of three `keyflow worker` processes in one
// consumer group. One worker is SIGKILLed mid-stream (its uncommitted work is redelivered to
// the others) and a fourth joins; every event is stored and rolled up exactly once, and
// GET /v1/actors/:key keeps answering through the edge, from whichever process owns the key,
// as /v1/stream does: one stream opened on the edge before the first event keeps sending
// summaries through the kill and the join, and streams each event stored by the living.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chunks, makeEvents } from './support/events.ts';
import { eventually, getJson, postJson } from './support/http.ts';
import { isolate, startKeyflow, type KeyflowProcess } from './support/keyflow.ts';
import { readSse, type Sse, type Summary } from './support/live.ts';
import { storedCounts } from './support/store.ts';

const TOTAL = 6_000;
const BATCH = 200;
const cleanups: (() => Promise<unknown>)[] = [];

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

type ActorAnswer = { key: string; process?: string; counts: { received: number } };

/** Which process answers each of the first 40 users through the edge (200s only). */
async function owners(edge: KeyflowProcess): Promise<ActorAnswer[]> {
  const out: ActorAnswer[] = [];
  for (let u = 0; u < 40; u++) {
    const r = await getJson<ActorAnswer>(`${edge.url}/v1/actors/u-${u}`);
    if (r.status === 200) out.push(r.body);
  }
  return out;
}

test('scale-out - edge + 3 workers, one SIGKILLed mid-stream and a fourth joining: counts exact, actors and /v1/stream answered through the edge', async () => {
  const iso = await isolate({ KEYFLOW_WORKERS: '1', KEYFLOW_PARTITIONS: '6' });
  cleanups.push(() => iso.cleanup());
  const workers = await Promise.all([0, 1, 2].map(() => startKeyflow(iso.env, 'worker')));
  for (const w of workers) cleanups.push(() => w.stop('SIGTERM'));
  const edge = await startKeyflow(iso.env, 'edge');
  cleanups.push(() => edge.stop('SIGTERM'));

  // One live stream through the edge for the whole test.
  const ac = new AbortController();
  cleanups.push(async () => ac.abort());
  const res = await fetch(`${edge.url}/v1/stream?events=true`, { signal: ac.signal });
  assert.equal(res.status, 200);
  const frames: Sse[] = [];
  void readSse(res, frames).catch(() => undefined);
  await eventually(async () => frames.length, (n) => n > 0, 10_000, 20);
  /** Summaries received since frame `from`. */
  const summariesSince = (from: number) => frames.slice(from).filter((f) => f.event === 'summary').map((f) => JSON.parse(f.data) as Summary);

  // Events within the last minute, so that the live summary counts them.
  const events = makeEvents(TOTAL, { prefix: 'so', seed: 12, users: 200, spanMs: 30_000 });
  const batches = chunks(events, BATCH);
  const send = async (from: number, to: number) => {
    for (const batch of batches.slice(from, to)) {
      const r = await postJson(`${edge.url}/v1/events`, batch);
      assert.equal(r.status, 202, JSON.stringify(r.body));
    }
  };

  await send(0, 10);
  const before = await eventually(() => owners(edge), (o) => new Set(o.map((a) => a.process)).size >= 2, 60_000, 300);
  assert.ok(before.every((a) => a.process !== undefined && workers.some((w) => w.url === a.process)), 'the edge asks the workers');

  const [victim, ...survivors] = workers;
  assert.ok(victim);
  const killed = await victim.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const atKill = frames.length;
  await send(10, 20);
  const fourth = await startKeyflow(iso.env, 'worker');
  cleanups.push(() => fourth.stop('SIGTERM'));
  const atJoin = frames.length;
  await send(20, batches.length);
  await eventually(async () => summariesSince(atKill).length, (n) => n >= 2, 15_000, 100);

  const counts = await eventually(() => storedCounts(iso.db.sql), (c) => c.rows >= TOTAL && c.rolledUp >= TOTAL, 120_000);
  assert.deepEqual(counts, { rows: TOTAL, rolledUp: TOTAL });

  // After the rebalances the keys are answered by the living processes, the fourth among them.
  const living = new Set([...survivors, fourth].map((w) => w.url));
  const afterKill = await eventually(
    () => owners(edge),
    (o) => o.length === 40 && o.every((a) => living.has(a.process ?? '')) && o.some((a) => a.process === fourth.url),
    60_000,
    500,
  );
  assert.equal(afterKill.length, 40);
  assert.ok(afterKill.every((a) => a.counts.received > 0));
  assert.deepEqual(await storedCounts(iso.db.sql), { rows: TOTAL, rolledUp: TOTAL });

  // The stream kept going through the kill and the join: summaries after each, one that
  // counts the events, and every event sent once the fourth had joined streamed exactly once
  // (those before may have been stored by the killed worker before it could announce them).
  const afterJoin = await eventually(async () => summariesSince(atJoin).length, (n) => n >= 2, 15_000, 100);
  assert.ok(afterJoin >= 2, 'summaries after the fourth worker joined');
  const last = await eventually(async () => summariesSince(atJoin).at(-1), (x) => (x?.eventsLastMinute ?? 0) > 0, 15_000, 200);
  assert.ok((last?.eventsLastMinute ?? 0) > 0, 'the edge\'s summary counts the events of the living workers');
  const streamed = frames.filter((f) => f.event === 'event');
  assert.equal(new Set(streamed.map((f) => f.id)).size, streamed.length, 'each partition:offset streamed once');
  const late = batches.slice(20).flat().map((e) => e.id);
  const streamedIds = () => new Set(frames.filter((f) => f.event === 'event').map((f) => (JSON.parse(f.data) as { id: string }).id));
  const missing = await eventually(async () => {
    const seen = streamedIds();
    return late.filter((id) => !seen.has(id));
  }, (m) => m.length === 0, 30_000, 200);
  assert.deepEqual(missing, [], 'every event sent after the join is streamed through the edge');
  const sent = new Set(events.map((e) => e.id));
  assert.ok([...streamedIds()].every((id) => sent.has(id)), 'only sent events are streamed');
  ac.abort();
});
