// The client against the real edge app in-process (app.request as its fetch): batching,
// identities fixed before retries, retries of 503 honouring Retry-After, refusals surfaced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EncodedEvent, IngestPort } from '../ports.ts';
import { appWith, queriesMustNotBeCalled, recordingIngest } from '../test-helpers.ts';
import { createClient, KeyflowEventRejectedError, KeyflowRequestError } from './index.ts';

const base = { type: 'page.view', source: 'web', occurredAt: '2026-11-20T12:00:00Z' };
const viaApp = (app: ReturnType<typeof appWith>, onRequest?: () => void): typeof fetch =>
  ((input: string | URL | Request, init?: RequestInit) => {
    onRequest?.();
    return app.request(String(input), init);
  }) as typeof fetch;

test('client - events are batched by size and linger, and each send() resolves with its identity', async () => {
  const ingest = recordingIngest();
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ ingest })), batchSize: 100, lingerMs: 5 });
  const results = await Promise.all(Array.from({ length: 250 }, (_, i) => kf.send({ ...base, id: `e-${i}` })));
  await kf.close();
  assert.deepEqual(results.map((r) => r.id), Array.from({ length: 250 }, (_, i) => `e-${i}`));
  assert.deepEqual(ingest.batches.map((b) => b.length).sort((a, b) => b - a), [100, 100, 50]);
});

test('client - an event without id or occurredAt gets them once, so a retry resends the same identity', async () => {
  let calls = 0;
  const seen: EncodedEvent[][] = [];
  const ingest: IngestPort = {
    publish(events) {
      calls++;
      seen.push([...events]);
      return calls === 1 ? Promise.reject(new Error('kafka down')) : Promise.resolve();
    },
  };
  const retries: number[] = [];
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ ingest })), lingerMs: 1, backoff: { initialMs: 1, maxMs: 5 }, onRetry: (r) => retries.push(r.status ?? 0) });
  const { id, occurredAt } = await kf.send({ type: 'page.view', source: 'web' });
  await kf.close();
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(typeof occurredAt, 'string');
  assert.deepEqual(retries, [503]);
  assert.equal(seen.length, 2);
  assert.equal(seen[0]?.[0]?.value, seen[1]?.[0]?.value, 'the retry carried the very same event');
});

test('client - Retry-After is honoured before the retry', async () => {
  let calls = 0;
  const ingest: IngestPort = { publish: () => (++calls === 1 ? Promise.reject(new Error('down')) : Promise.resolve()) };
  const delays: number[] = [];
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ ingest })), lingerMs: 1, backoff: { initialMs: 1 }, onRetry: (r) => delays.push(r.delayMs) });
  await kf.send({ ...base, id: 'r' });
  assert.ok((delays[0] ?? 0) >= 1_000, `waited at least the Retry-After second (${delays[0]} ms)`);
});

test('client - an invalid event rejects its own send() only; the rest of the batch is accepted', async () => {
  const ingest = recordingIngest();
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ ingest })), lingerMs: 5 });
  const good = kf.send({ ...base, id: 'ok' });
  const bad = kf.send({ ...base, id: 'bad', funnelStage: 'middle' as 'top' });
  assert.deepEqual(await good, { id: 'ok', occurredAt: base.occurredAt });
  await assert.rejects(bad, (e: unknown) => e instanceof KeyflowEventRejectedError && e.errors.some((x) => x.path === 'funnelStage'));
  // All invalid: the 400 still names each event.
  await assert.rejects(kf.send({ ...base, id: 'alone', source: '' }), KeyflowEventRejectedError);
  await kf.close();
});

test('client - a refusal that retrying cannot fix surfaces at once; lookups answer undefined for 404', async () => {
  const requests: number[] = [];
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ options: { apiKeys: [{ name: 'k', secret: 'k', scopes: ['read'] }] } }), () => requests.push(1)) });
  await assert.rejects(kf.reportEvents(), (e: unknown) => e instanceof KeyflowRequestError && e.status === 401);
  assert.equal(requests.length, 1, 'a 401 is not retried');
  const open = createClient({
    baseUrl: 'http://127.0.0.1:8080',
    fetch: viaApp(appWith({ queries: { ...queriesMustNotBeCalled, getEvent: () => Promise.resolve(undefined) } })),
  });
  assert.equal(await open.getEvent('nope'), undefined);
});

test('client - stream() sends an array as NDJSON and resends it whole after a 503', async () => {
  let calls = 0;
  const got: string[] = [];
  const ingest: IngestPort = {
    publish(events) {
      calls++;
      if (calls === 1) return Promise.reject(new Error('down'));
      got.push(...events.map((e) => e.id));
      return Promise.resolve();
    },
  };
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(appWith({ ingest })), backoff: { initialMs: 1, maxMs: 2 } });
  const s = await kf.stream(Array.from({ length: 1_200 }, (_, i) => ({ ...base, id: `s-${i}` })));
  assert.equal(s.accepted, 1_200);
  assert.equal(new Set(got).size, 1_200);
});

test('client - csv() fetches a report as the CSV the route serves, with the same numbers as the JSON', async () => {
  const queries = {
    ...queriesMustNotBeCalled,
    reportEvents: () => Promise.resolve({ total: 3, groups: [{ type: 'page.view', count: 2 }, { type: 'a,"b"', count: 1 }] }),
  };
  const app = appWith({ queries });
  const kf = createClient({ baseUrl: 'http://127.0.0.1:8080', fetch: viaApp(app) });
  const csv = await kf.csv('reports/events', { groupBy: 'type' });
  assert.equal(csv, 'type,count\r\npage.view,2\r\n"a,""b""",1\r\n');
  const json = (await kf.reportEvents({ groupBy: 'type' })) as { groups: { type: string; count: number }[] };
  assert.deepEqual(json.groups.map((g) => g.count), [2, 1]);
  await assert.rejects(kf.csv('reports/events', { groupBy: 'nope' }), (e: unknown) => e instanceof KeyflowRequestError && e.status === 400);
});
