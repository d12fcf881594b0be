// The pipeline end to end, through the real keyflow process and the real services:
// HTTP → Kafka → worker-thread actors → PostgreSQL rollups → the report.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chunks, expectedGroups, makeEvents } from './support/events.ts';
import { eventually, getJson, postJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Report = { total: number; groups: { type: string; source: string; funnelStage: string | null; count: number }[] };

let iso: Isolated;
let kf: KeyflowProcess;
const now = Date.now();
const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;

before(async () => {
  iso = await isolate();
  kf = await startKeyflow(iso.env);
});

after(async () => {
  const stopped = await kf?.stop('SIGTERM');
  await iso?.cleanup();
  assert.equal(stopped?.code, 0, `keyflow should exit 0 on SIGTERM; its log ends:\n${kf?.logs().slice(-2000)}`);
});

async function report(): Promise<Report> {
  const r = await getJson<Report>(`${kf.url}/v1/reports/events?${window}&groupBy=type,source,funnelStage`);
  assert.equal(r.status, 200);
  return r.body;
}

test('pipeline - 10,000 events with 1,000 resent are stored and counted exactly once', async () => {
  const events = makeEvents(10_000, { prefix: 'p', seed: 42, now });
  const resent = events.filter((_, i) => i % 10 === 3); // 1,000 exact retries
  await sendBatches(() => kf.url, chunks(events, 500));
  await sendBatches(() => kf.url, chunks(resent, 250));

  const got = await eventually(report, (r) => r.total >= 10_000, 60_000);
  assert.equal(got.total, 10_000);
  const expected = expectedGroups(events);
  const actual = new Map(got.groups.map((g) => [`${g.type}|${g.source}|${g.funnelStage}`, g.count]));
  assert.deepEqual(actual, expected);

  // Nothing arrives late: the duplicates were dropped, not delayed.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await report()).total, 10_000);
  const [{ n }] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events`;
  assert.equal(n, 10_000);
});

test('ingest - a stored event is returned by id, and an unknown id is 404', async () => {
  const r = await getJson<{ id: string; type: string; occurredAt: string }>(`${kf.url}/v1/events/p-7`);
  assert.equal(r.status, 200);
  const [source] = makeEvents(8, { prefix: 'p', seed: 42, now }).slice(7);
  assert.equal(r.body.id, 'p-7');
  assert.equal(r.body.type, source!.type);
  assert.equal(Date.parse(r.body.occurredAt), typeof source!.occurredAt === 'number' ? source!.occurredAt : Date.parse(source!.occurredAt));
  const missing = await getJson<{ error: { code: string } }>(`${kf.url}/v1/events/no-such-event`);
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'not_found');
});

test('ingest - bad requests get their documented status and body, and valid events of a mixed batch are stored', async () => {
  const json = await postJson(`${kf.url}/v1/events`, '{"id": "x", oops');
  assert.equal(json.status, 400);
  assert.equal((json.body as { error: { code: string } }).error.code, 'invalid_json');

  const big = await postJson(`${kf.url}/v1/events`, { events: [{ id: 'big', type: 't', source: 's', occurredAt: now, properties: { blob: 'x'.repeat(1000) } }], pad: 'y'.repeat(1_100_000) });
  assert.equal(big.status, 413);
  assert.equal((big.body as { error: { code: string } }).error.code, 'payload_too_large');

  const noType = await postJson(`${kf.url}/v1/events`, { id: 'nt', source: 's', occurredAt: now });
  assert.equal(noType.status, 400);
  assert.deepEqual((noType.body as { rejected: { index: number; errors: { path: string }[] }[] }).rejected.map((r) => [r.index, r.errors.map((e) => e.path)]), [[0, ['type']]]);

  const tooMany = await postJson(`${kf.url}/v1/events`, makeEvents(1001, { prefix: 'tm', now }));
  assert.equal(tooMany.status, 413);
  assert.equal((tooMany.body as { error: { code: string } }).error.code, 'too_many_events');

  const mixed = await postJson(`${kf.url}/v1/events`, [
    { id: 'm-ok-1', type: 'ad.click', source: 'mixed', occurredAt: now },
    { id: 'm-bad', source: 'mixed', occurredAt: now },
    { id: 'm-ok-2', type: 'ad.view', source: 'mixed', occurredAt: new Date(now).toISOString() },
    { id: 'm-bad-2', type: 'ad.view', source: 'mixed', occurredAt: 'not a date' },
  ]);
  assert.equal(mixed.status, 202);
  const body = mixed.body as { accepted: number; ids: string[]; rejected: { index: number }[] };
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.ids, ['m-ok-1', 'm-ok-2']);
  assert.deepEqual(body.rejected.map((r) => r.index), [1, 3]);

  for (const id of ['m-ok-1', 'm-ok-2']) {
    const r = await eventually(() => getJson(`${kf.url}/v1/events/${id}`), (x) => x.status === 200, 10_000);
    assert.equal(r.status, 200, `${id} should be stored`);
  }
  assert.equal((await getJson(`${kf.url}/v1/events/m-bad`)).status, 404);
});

test('metrics - the one /metrics answer includes the workers’ counters', async () => {
  const res = await fetch(`${kf.url}/metrics`);
  const text = await res.text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  assert.ok(value('keyflow_events_accepted_total') >= 11_002);
  assert.ok(value('keyflow_events_consumed_total') >= 11_002, 'consumed is counted in worker threads and aggregated');
  assert.ok(value('keyflow_events_flushed_total') >= 10_002);
  assert.match(text, /keyflow_flush_duration_seconds_count \d+/);
});
