// The stream fan-out without sockets: a client that takes nothing keeps at most its byte
// budget queued and the rest is dropped and counted; a reading client gets everything; the
// feed is subscribed to only while an events client is connected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveEvent, LivePort, LiveSummary } from '../ports.ts';
import { StreamHub, matches } from './stream-hub.ts';

const summary: LiveSummary = { at: new Date(0).toISOString(), eventsLastMinute: 0, eventsPerSecond: 0, activeUsers: { '1m': 0, '5m': 0, '30m': 0 }, topTypes: [] };

/** A live port whose feed the test drives by hand. */
function fakeLive() {
  const listeners = new Set<(e: readonly LiveEvent[]) => void>();
  const port: LivePort = {
    summary: async () => summary,
    lag: async () => ({ group: 'g', topic: 't', totalLag: 0, maxLag: 0, partitions: [] }),
    subscribe: async (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { port, listeners, publish: (events: LiveEvent[]) => listeners.forEach((l) => l(events)) };
}

const events = (n: number, from = 0): LiveEvent[] =>
  Array.from({ length: n }, (_, i) => ({ partition: 0, offset: String(from + i), event: { id: `e${from + i}`, type: 't', source: 's', pad: 'x'.repeat(200) } }));
const tick = () => new Promise((r) => setTimeout(r, 10));

test('stream hub - a client that never takes its bytes keeps at most its budget queued; the rest is dropped and counted', async () => {
  const live = fakeLive();
  let dropped = 0;
  const hub = new StreamHub(live.port, { maxClients: 2, maxQueuedBytes: 4_096, onDropped: (n) => (dropped += n) });
  let written = 0;
  const stuck = { closed: false, write: (f: string) => ((written += f.length), new Promise<never>(() => undefined)) };
  const ac = new AbortController();
  assert.ok(hub.tryAcquire());
  const served = hub.serve(stuck, {}, ac.signal);
  await tick();
  for (let i = 0; i < 100; i++) live.publish(events(10, i * 10));
  await tick();
  assert.ok(dropped > 900, `most of 1000 events were dropped (${dropped})`);
  assert.ok(written < 1_000, 'only the first summary reached the sink');
  ac.abort();
  await Promise.race([served, tick()]);
});

test('stream hub - a reading client gets every event once, in order, with partition:offset ids', async () => {
  const live = fakeLive();
  const hub = new StreamHub(live.port, { maxClients: 1, maxQueuedBytes: 1 << 20 });
  const frames: string[] = [];
  const ac = new AbortController();
  assert.ok(hub.tryAcquire());
  assert.equal(hub.tryAcquire(), false, 'the cap holds');
  const served = hub.serve({ closed: false, write: async (f) => frames.push(f) }, {}, ac.signal);
  await tick();
  assert.equal(live.listeners.size, 1);
  for (let i = 0; i < 20; i++) live.publish(events(5, i * 5));
  await tick();
  const ids = frames.join('').match(/^id: .*$/gm) ?? [];
  assert.deepEqual(ids, Array.from({ length: 100 }, (_, i) => `id: 0:${i}`));
  ac.abort();
  await served;
  assert.equal(live.listeners.size, 0, 'the feed is let go with the last events client');
  assert.ok(hub.tryAcquire(), 'the slot is free again');
});

test('stream hub - filters match type and source lists and the user', () => {
  const e = { id: 'x', type: 'ad.click', source: 'tiktok', userId: 'u1' };
  assert.ok(matches({}, e));
  assert.ok(matches({ types: new Set(['ad.click', 'b']), sources: new Set(['tiktok']), userId: 'u1' }, e));
  assert.ok(!matches({ types: new Set(['b']) }, e));
  assert.ok(!matches({ sources: new Set(['fb']) }, e));
  assert.ok(!matches({ userId: 'u2' }, e));
});
