// `npx tsx bench/segment.ts [--events N] [--rounds R]`
//
// Events/s through Segment's POST /v1/batch, sent by @segment/analytics-node with its default
// batching (flushAt 15), against POST /v1/events batches of the same size sent the same way
// (every batch as soon as it is full, none waiting for another), on one real keyflow (its own
// database and topic). A run counts from the first call to the last acknowledgement (every
// answer 2xx); then it waits until the store holds every event, and checks it holds each once.
// Rounds alternate the two senders so neither always meets a warmer process.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { Analytics } from '@segment/analytics-node';
import { eventually } from '../test/support/http.ts';
import { isolate, startKeyflow } from '../test/support/keyflow.ts';

const BATCH = 15; // analytics-node's default flushAt

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '2' } } });
  const n = Number(values.events);
  const rounds = Number(values.rounds);
  const iso = await isolate();
  const kf = await startKeyflow(iso.env);
  const results: { how: string; eventsPerSec: number; ms: number }[] = [];
  let stored = 0;
  try {
    const now = Date.now();
    for (let r = 0; r < rounds; r++) {
      for (const how of r % 2 === 0 ? (['segment', 'events'] as const) : (['events', 'segment'] as const)) {
        const prefix = `${how}-${r}`;
        const t0 = performance.now();
        if (how === 'segment') await viaSegment(kf.url, prefix, n, now);
        else await viaEvents(kf.url, prefix, n, now);
        const ms = performance.now() - t0;
        results.push({ how, eventsPerSec: Math.round((n / ms) * 1000), ms: Math.round(ms) });
        stored += n;
        const rows = async () => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`)[0].n;
        assert.equal(await eventually(rows, (x) => x >= stored, 120_000), stored, 'every event stored once');
      }
    }
  } finally {
    await kf.stop('SIGTERM');
    await iso.cleanup();
  }
  for (const r of results) console.log(`${r.how === 'segment' ? 'POST /v1/batch (analytics-node, flushAt 15)' : `POST /v1/events (batches of ${BATCH})`}: ${n} events in ${r.ms} ms = ${r.eventsPerSec} events/s`);
  const mean = (how: string) => Math.round(results.filter((r) => r.how === how).reduce((s, r) => s + r.eventsPerSec, 0) / rounds);
  console.log(`answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
  console.log(`mean over ${rounds} rounds: /v1/batch ${mean('segment')} events/s, /v1/events ${mean('events')} events/s`);
}

async function viaSegment(url: string, prefix: string, n: number, now: number): Promise<void> {
  const analytics = new Analytics({ writeKey: 'bench', host: url });
  let gaveUp = 0;
  analytics.on('http_response', (r) => count(statuses, `segment ${r.status}`));
  analytics.on('error', () => gaveUp++);
  for (let i = 0; i < n; i++) {
    analytics.track({ userId: `u-${i % 1000}`, messageId: `${prefix}-${i}`, event: 'page.view', timestamp: new Date(now - 60_000 + (i % 60_000)), properties: { page: `/p/${i % 20}`, ref: 'newsfeed' } });
  }
  await analytics.closeAndFlush({ timeout: 300_000 });
  assert.equal(gaveUp, 0, 'the SDK delivered every batch (retrying what keyflow refused)');
}

/** Answers by sender and status, over the whole run: refusals (503, 429) are retried by both senders. */
const statuses = new Map<string, number>();
function count(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

async function viaEvents(url: string, prefix: string, n: number, now: number): Promise<void> {
  const sends: Promise<void>[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const events = [];
    for (let i = start; i < Math.min(n, start + BATCH); i++) {
      events.push({ id: `${prefix}-${i}`, type: 'page.view', source: 'bench', occurredAt: new Date(now - 60_000 + (i % 60_000)).toISOString(), userId: `u-${i % 1000}`, properties: { page: `/p/${i % 20}`, ref: 'newsfeed' } });
    }
    const body = JSON.stringify({ events });
    // As the SDK does: a refused batch (503, 429) is sent again after a backoff of 500 ms and up.
    const send = async (attempt: number): Promise<void> => {
      const res = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      await res.arrayBuffer();
      count(statuses, `events ${res.status}`);
      if (res.status === 202) return;
      assert.ok((res.status === 503 || res.status === 429) && attempt < 10, `POST /v1/events answered ${res.status}`);
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      return send(attempt + 1);
    };
    sends.push(send(0));
  }
  await Promise.all(sends);
}

await main();
