// GET /v1/stream and GET /v1/admin/lag against a real keyflow: summaries arrive, events=true
// with filters delivers exactly the matching stored events with partition:offset ids, the
// client cap answers 503, a client that does not read makes keyflow drop (and count) events
// instead of buffering them, and the lag numbers agree with what was produced and consumed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { chunks, makeEvents } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { readSse, type Sse, type Summary } from './support/live.ts';

let iso: Isolated;
let kf: KeyflowProcess;
const produced = { n: 0 };

before(async () => {
  iso = await isolate({ KEYFLOW_MAX_STREAM_CLIENTS: '3', KEYFLOW_STREAM_QUEUE_BYTES: '262144' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const metric = async (name: string): Promise<number> => {
  const text = await (await fetch(`${kf.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};

/** Open a stream; answers what it received so far and how to close it. */
async function openStream(query: string): Promise<{ frames: Sse[]; comments: string[]; close(): void; status: number; body?: unknown }> {
  const ac = new AbortController();
  const res = await fetch(`${kf.url}/v1/stream${query}`, { signal: ac.signal });
  if (res.status !== 200) return { frames: [], comments: [], close: () => undefined, status: res.status, body: await res.json() };
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const frames: Sse[] = [];
  const comments: string[] = [];
  void readSse(res, frames, comments);
  return { frames, comments, close: () => ac.abort(), status: 200 };
}

test('stream - summaries arrive once a second with the summary shape', async () => {
  const s = await openStream('');
  try {
    const frames = await eventually(async () => s.frames, (f) => f.filter((x) => x.event === 'summary').length >= 2, 10_000, 50);
    const summary = JSON.parse(frames[0]!.data) as Summary;
    assert.deepEqual(Object.keys(summary).sort(), ['activeUsers', 'at', 'eventsLastMinute', 'eventsPerSecond', 'topTypes']);
    assert.deepEqual(Object.keys(summary.activeUsers).sort(), ['1m', '30m', '5m']);
    assert.ok(frames.every((f) => f.event === 'summary'), 'no events without events=true');
  } finally {
    s.close();
  }
});

test('stream - events=true with filters delivers exactly the matching stored events, with partition:offset ids', async () => {
  const s = await openStream('?events=true&type=ad.click,page.view&source=tiktok');
  const all = await openStream('?events=true');
  try {
    // The first summary is sent once the stream is subscribed to the feed.
    await eventually(async () => s.frames.length + all.frames.length, () => s.frames.length > 0 && all.frames.length > 0, 10_000, 20);
    const events = makeEvents(600, { prefix: 'f', seed: 11, spanMs: 60_000 });
    await sendBatches(() => kf.url, chunks(events, 100), 2);
    produced.n += events.length;
    const want = events.filter((e) => (e.type === 'ad.click' || e.type === 'page.view') && e.source === 'tiktok').map((e) => e.id).sort();
    assert.ok(want.length > 10, 'the filter matches some events');
    const got = () => s.frames.filter((f) => f.event === 'event');
    await eventually(async () => got().length, (n) => n >= want.length, 30_000, 50);
    await eventually(async () => all.frames.filter((f) => f.event === 'event').length, (n) => n >= events.length, 30_000, 50);
    await new Promise((r) => setTimeout(r, 500)); // nothing more may come
    const ids = got().map((f) => (JSON.parse(f.data) as { id: string }).id).sort();
    assert.deepEqual(ids, want);
    const stored = await iso.db.sql<{ id: string; type: string }[]>`select id, type from events where id = any(${want})`;
    assert.equal(stored.length, want.length, 'every streamed event is stored');
    const seen = new Set<string>();
    for (const f of all.frames.filter((x) => x.event === 'event')) {
      assert.match(f.id ?? '', /^\d+:\d+$/);
      assert.ok(!seen.has(f.id!), 'each partition:offset once');
      seen.add(f.id!);
    }
    assert.equal(seen.size, events.length);
  } finally {
    s.close();
    all.close();
  }
});

test('stream - filters without events=true and unknown parameters are refused by name', async () => {
  for (const [q, name] of [['?type=a', 'type'], ['?events=yes', 'events'], ['?bogus=1', 'bogus']] as const) {
    const r = await openStream(q);
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), new RegExp(name));
  }
});

test('stream - beyond KEYFLOW_MAX_STREAM_CLIENTS the next client gets 503 with the error body', async () => {
  const open = [await openStream(''), await openStream(''), await openStream('')];
  try {
    const extra = await openStream('');
    assert.equal(extra.status, 503);
    assert.equal((extra.body as { error: { code: string } }).error.code, 'too_many_streams');
    assert.ok((await metric('keyflow_stream_rejected_total')) >= 1);
  } finally {
    for (const s of open) s.close();
  }
  await eventually(() => metric('keyflow_stream_clients'), (n) => n === 0, 10_000);
  const again = await openStream('');
  assert.equal(again.status, 200, 'a freed slot can be used again');
  again.close();
});

test('stream - a client that does not read makes keyflow drop events for it, not buffer them', async () => {
  const port = Number(new URL(kf.url).port);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(`GET /v1/stream?events=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  // Read the headers and the first summary, then stop reading: the kernel buffers fill up.
  await new Promise<void>((r) => socket.once('data', () => r()));
  socket.pause();
  try {
    const pad = 'x'.repeat(60);
    const big = makeEvents(3_000, { prefix: 'slow', seed: 13, spanMs: 60_000 }).map((e) => ({
      ...e,
      properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, `${pad}${i}`])),
    }));
    await sendBatches(() => kf.url, chunks(big, 200), 2);
    produced.n += big.length;
    const dropped = await eventually(() => metric('keyflow_stream_events_dropped_total'), (n) => n > 0, 60_000);
    assert.ok(dropped > 0, 'events for the slow client were dropped and counted');
    const rss = await metric('keyflow_process_resident_memory_bytes');
    assert.ok(rss < 1024 * 1024 * 1024, `keyflow stays bounded (rss ${rss})`);
  } finally {
    socket.destroy();
  }
});

test('lag - the numbers agree with what was produced and consumed, and every partition has an owner', async () => {
  type Lag = { group: string; topic: string; totalLag: number; maxLag: number; partitions: { partition: number; committedOffset: number | null; highWatermark: number; lag: number; owner: { process: string; workerId: number } | null }[] };
  const lag = await eventually(async () => (await getJson<Lag>(`${kf.url}/v1/admin/lag`)).body, (l) => l.totalLag === 0 && l.partitions.every((p) => p.owner !== null), 60_000);
  assert.equal(lag.topic, iso.topic);
  assert.equal(lag.group, iso.env['KEYFLOW_GROUP_ID']);
  assert.equal(lag.partitions.length, 4);
  assert.equal(lag.partitions.reduce((s, p) => s + p.highWatermark, 0), produced.n, 'the high watermarks add up to the events produced');
  for (const p of lag.partitions) {
    assert.equal(p.committedOffset, p.highWatermark);
    assert.equal(p.lag, 0);
    assert.equal(p.owner?.process, kf.url);
    assert.ok(p.owner.workerId === 0 || p.owner.workerId === 1);
  }
  const text = await (await fetch(`${kf.url}/metrics`)).text();
  assert.match(text, new RegExp(`keyflow_consumer_lag\\{topic="${iso.topic.replaceAll('.', '\\.')}",partition="0"\\} 0`));
  assert.match(text, /keyflow_event_time_lag_seconds\{partition="\d"\} \d/);
  assert.equal(await metric('keyflow_producer_messages_total'), produced.n);
  assert.equal(await metric('keyflow_events_consumed_total'), produced.n);
  assert.equal(await metric('keyflow_producer_errors_total'), 0);
  const bad = await fetch(`${kf.url}/v1/admin/lag?x=1`);
  assert.equal(bad.status, 400);
});
