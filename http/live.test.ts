// The live routes through app.request(): the summary comes from the live port only and its
// failure is a 503, never a 500; unknown parameters are refused by name; the stream's client
// cap and a feed that cannot be reached answer 503 with the error body before any stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LivePort, LiveSummary } from './ports.ts';
import { appWith } from './test-helpers.ts';

const summary: LiveSummary = { at: '2026-12-02T12:00:00.000Z', eventsLastMinute: 120, eventsPerSecond: 2, activeUsers: { '1m': 3, '5m': 4, '30m': 9 }, topTypes: [{ type: 'ad.click', events: 100 }] };
const down = () => Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
const live = (o: Partial<LivePort> = {}): LivePort => ({
  summary: async () => summary,
  subscribe: async () => () => undefined,
  lag: async () => ({ group: 'g', topic: 't', totalLag: 0, maxLag: 0, partitions: [] }),
  ...o,
});

test('GET /v1/analytics/summary - answers the live port\'s summary as it is', async () => {
  const res = await appWith({ live: live() }).request('/v1/analytics/summary');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), summary);
});

test('GET /v1/analytics/summary - Redis down is a 503 redis_unavailable with Retry-After', async () => {
  const res = await appWith({ live: live({ summary: down }) }).request('/v1/analytics/summary');
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'redis_unavailable');
});

test('live routes - an unknown parameter is a 400 that names it', async () => {
  const app = appWith({ live: live() });
  for (const path of ['/v1/analytics/summary?from=1', '/v1/admin/lag?verbose=1', '/v1/stream?events=true&kind=x']) {
    const res = await app.request(path);
    assert.equal(res.status, 400, path);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'invalid_query');
    assert.match(body.error.message, /from|verbose|kind/);
  }
});

test('GET /v1/admin/lag - Kafka not answering is a 503', async () => {
  const res = await appWith({ live: live({ lag: down }) }).request('/v1/admin/lag');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'kafka_unavailable');
});

test('GET /v1/stream - a feed that cannot be reached is a 503 before the stream opens, and frees its slot', async () => {
  const app = appWith({ live: live({ subscribe: down }), stream: { maxClients: 1, maxQueuedBytes: 1024 } });
  for (let i = 0; i < 2; i++) {
    const res = await app.request('/v1/stream?events=true');
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'redis_unavailable');
  }
});

test('GET /v1/stream - with no slot left the client gets 503 too_many_streams', async () => {
  const app = appWith({ live: live(), stream: { maxClients: 0, maxQueuedBytes: 1024 } });
  const res = await app.request('/v1/stream');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'too_many_streams');
});
