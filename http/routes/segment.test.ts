import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { appWith, recordingIngest } from '../test-helpers.ts';
import type { ApiKey, IngestPort } from '../ports.ts';

const T = '2026-12-01T10:00:00.000Z';
const WRITE_KEY = 'wk-segment-test-0123456789';
const WIDE_KEY = 'wk-too-wide-0123456789abcd';
const keys: ApiKey[] = [
  { name: 'web', secret: WRITE_KEY, scopes: ['ingest'] },
  { name: 'ops', secret: WIDE_KEY, scopes: ['ingest', 'read'] },
];
const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
const track = (i: number, extra: Record<string, unknown> = {}) => ({ type: 'track', event: 'Clicked', messageId: `m-${i}`, timestamp: T, userId: `u-${i}`, ...extra });
const post = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  headers: { 'Content-Type': 'application/json', ...headers },
});
const published = (ingest: ReturnType<typeof recordingIngest>) => ingest.batches.flat().map((e) => JSON.parse(e.value) as Record<string, unknown>);

test('segment - one bad message in a batch is rejected by index, the others are taken, and the answer is 200 success', async () => {
  const ingest = recordingIngest();
  const rejections: [string, number][] = [];
  const app = appWith({ ingest, options: { onSegmentRejected: (reason, n) => rejections.push([reason, n]) } });
  const res = await app.request('/v1/batch', post({ batch: [track(1), { type: 'track', event: 'x', timestamp: T }, track(3), 'junk'] }));
  assert.equal(res.status, 200);
  const body = (await res.json()) as { success: boolean; accepted: number; rejected: { index: number; errors: { path: string }[] }[] };
  assert.equal(body.success, true);
  assert.equal(body.accepted, 2);
  assert.deepEqual(body.rejected.map((r) => [r.index, r.errors[0]?.path]), [[1, 'messageId'], [3, '(message)']]);
  assert.deepEqual(published(ingest).map((e) => [e['id'], e['source'], e['userId']]), [['m-1', 'segment', 'u-1'], ['m-3', 'segment', 'u-3']]);
  assert.deepEqual(ingest.batches.flat().map((e) => e.key), ['u-1', 'u-3']);
  assert.deepEqual(rejections.sort(), [['no_message_id', 1], ['not_an_object', 1]]);
});

test('segment - text/plain and gzip bodies are taken; the short routes imply their call', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest });
  const gz = gzipSync(JSON.stringify({ batch: [track(1)] }));
  const r1 = await app.request('/v1/b', post(new Uint8Array(gz), { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip' }));
  assert.equal(r1.status, 200);
  const r2 = await app.request('/v1/p', post({ messageId: 'p-1', timestamp: T, anonymousId: 'a-1', name: 'Home', type: 'track' }, { 'Content-Type': 'text/plain;charset=UTF-8' }));
  assert.equal(r2.status, 200);
  const r3 = await app.request('/v1/identify', post({ messageId: 'i-1', timestamp: T, userId: 'u-1', traits: { age: 40, address: { country: 'DE' } } }));
  assert.deepEqual(await r3.json(), { success: true, accepted: 1, rejected: [] });
  const events = published(ingest);
  assert.deepEqual(events.map((e) => e['type']), ['Clicked', 'page', 'identify']);
  assert.deepEqual(events[1]?.['properties'], { name: 'Home', anonymousId: 'a-1' });
  assert.deepEqual(events[2]?.['user'], { age: 40, country: 'DE' });
});

test('segment - a body over 500 KiB once decompressed is a 400; a message over 32 KiB is rejected by its index', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest });
  const huge = JSON.stringify({ batch: Array.from({ length: 20 }, (_, i) => track(i, { properties: { pad: 'x'.repeat(1000), more: 'y'.repeat(1000) }, context: { blob: 'z'.repeat(26_000) } })) });
  const big = await app.request('/v1/batch', post(new Uint8Array(gzipSync(huge)), { 'Content-Encoding': 'gzip' }));
  assert.equal(big.status, 400);
  assert.equal(((await big.json()) as { error: { code: string } }).error.code, 'body_too_large');
  const one = await app.request('/v1/batch', post({ batch: [track(1), track(2, { context: { blob: 'z'.repeat(33 * 1024) } })] }));
  assert.equal(one.status, 200);
  const body = (await one.json()) as { accepted: number; rejected: { index: number; errors: { message: string }[] }[] };
  assert.equal(body.accepted, 1);
  assert.equal(body.rejected[0]?.index, 1);
  assert.match(body.rejected[0]?.errors[0]?.message ?? '', /at most 32768/);
});

test('segment - not a batch, not JSON, or another content type is refused whole', async () => {
  const app = appWith({ ingest: recordingIngest() });
  assert.equal((await app.request('/v1/batch', post({ events: [] }))).status, 400);
  assert.equal((await app.request('/v1/batch', post('{nope'))).status, 400);
  assert.equal((await app.request('/v1/track', post([track(1)]))).status, 400);
  assert.equal((await app.request('/v1/batch', post({ batch: [] }, { 'Content-Type': 'application/x-www-form-urlencoded' }))).status, 415);
  assert.equal((await app.request('/v1/batch', post({ batch: Array.from({ length: 1001 }, () => ({})) }))).status, 413);
});

test('segment - with keys, the write key is the Basic user or writeKey in the body, and names the source', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, options: { apiKeys: keys } });
  assert.equal((await app.request('/v1/batch', post({ batch: [track(1)] }, { Authorization: basic(WRITE_KEY) }))).status, 200);
  assert.equal((await app.request('/v1/t', post({ ...track(2), writeKey: WRITE_KEY }, { 'Content-Type': 'text/plain' }))).status, 200);
  assert.deepEqual(published(ingest).map((e) => e['source']), ['web', 'web']);
});

test('segment - with keys, a missing or unknown write key is a 401, and so is a key with more than the ingest scope, saying so', async () => {
  const app = appWith({ ingest: recordingIngest(), options: { apiKeys: keys } });
  const none = await app.request('/v1/batch', post({ batch: [track(1)] }));
  assert.equal(none.status, 401);
  assert.equal((await app.request('/v1/batch', post({ batch: [track(1)], writeKey: 'not-a-key-at-all-000' }))).status, 401);
  const wide = await app.request('/v1/batch', post({ batch: [track(1)] }, { Authorization: basic(WIDE_KEY) }));
  assert.equal(wide.status, 401);
  assert.match(((await wide.json()) as { error: { message: string } }).error.message, /ingest scope and no other/);
});

test('segment - CORS: with keys the preflight allows the SDK headers and every answer exposes Retry-After; without keys there is none', async () => {
  const app = appWith({ ingest: recordingIngest(), options: { apiKeys: keys } });
  const pre = await app.request('/v1/b', { method: 'OPTIONS', headers: { Origin: 'http://shop.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,authorization,x-retry-count' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('Access-Control-Allow-Origin'), '*');
  assert.deepEqual(pre.headers.get('Access-Control-Allow-Headers')?.toLowerCase().split(','), ['content-type', 'authorization', 'x-retry-count']);
  const denied = await app.request('/v1/b', post({ batch: [] }, { Origin: 'http://shop.test' }));
  assert.equal(denied.status, 401);
  assert.equal(denied.headers.get('Access-Control-Allow-Origin'), '*');
  assert.equal(denied.headers.get('Access-Control-Expose-Headers'), 'Retry-After');
  const other = await app.request('/v1/events', { method: 'OPTIONS', headers: { Origin: 'http://shop.test', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(other.headers.get('Access-Control-Allow-Origin'), null);

  const open = appWith({ ingest: recordingIngest() });
  const res = await open.request('/v1/b', post({ batch: [] }, { Origin: 'http://shop.test' }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('Access-Control-Allow-Origin'), null);

  const listed = appWith({ ingest: recordingIngest(), options: { corsOrigins: ['http://shop.test'] } });
  assert.equal((await listed.request('/v1/b', post({ batch: [] }, { Origin: 'http://shop.test' }))).headers.get('Access-Control-Allow-Origin'), 'http://shop.test');
  assert.equal((await listed.request('/v1/b', post({ batch: [] }, { Origin: 'http://evil.test' }))).headers.get('Access-Control-Allow-Origin'), null);
});

test('segment - when Kafka does not acknowledge, a 503 with Retry-After that the browser may read', async () => {
  const failing: IngestPort = { publish: () => Promise.reject(Object.assign(new Error('down'), { code: 'KEYFLOW_KAFKA_UNAVAILABLE' })) };
  const app = appWith({ ingest: failing, options: { apiKeys: keys } });
  const res = await app.request('/v1/batch', post({ batch: [track(1)] }, { Authorization: basic(WRITE_KEY), Origin: 'http://shop.test' }));
  assert.equal(res.status, 503);
  assert.ok(Number(res.headers.get('Retry-After')) >= 1);
  assert.equal(res.headers.get('Access-Control-Allow-Origin'), '*');
});

test('segment - a resent batch publishes byte-identical events (the store then keeps one of each)', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest });
  const batch = { batch: [track(1), track(2)], sentAt: T };
  await app.request('/v1/batch', post(batch));
  await app.request('/v1/batch', post({ ...batch, sentAt: '2026-12-01T10:05:00.000Z' }, { 'X-Retry-Count': '1' }));
  assert.deepEqual(ingest.batches[0], ingest.batches[1]);
});

test('segment - over the write key\'s rate limit, a 429 with Retry-After (which the SDKs honour), counted under the key', async () => {
  const taken: string[] = [];
  const app = appWith({
    ingest: recordingIngest(),
    rateLimit: { take: (key) => (taken.push(key), Promise.resolve({ allowed: false, burst: 1, perSec: 1, remaining: 0, resetSeconds: 1, retryAfterSeconds: 0.2 })) },
    options: { apiKeys: keys },
  });
  const res = await app.request('/v1/batch', post({ batch: [track(1)] }, { Authorization: basic(WRITE_KEY) }));
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('Retry-After'), '1');
  assert.deepEqual(taken, ['web']);
});
