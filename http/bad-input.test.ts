// Issue 12, item 5: bad input tried as a new user would, each a clear 4xx in the error body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serveApp } from './serve.ts';
import { appWith, eventInput, postJson, queriesMustNotBeCalled, recordingIngest } from './test-helpers.ts';
import type { QueryPort } from './ports.ts';

type Json = { error?: { code: string; message: string; details?: unknown }; accepted?: number; rejected?: { index: number; errors: { path: string; message: string }[] }[] };
const json = async (res: Response) => (await res.json()) as Json;

const lookups: string[] = [];
const queries: QueryPort = {
  ...queriesMustNotBeCalled,
  getEvent: (id) => (lookups.push(id), Promise.resolve(undefined)),
  reportEvents: () => Promise.reject(new Error('the store must not be asked')),
  listDeadLetters: () => Promise.reject(new Error('the store must not be asked')),
};

test('bad input - NUL in a path segment or any query parameter is a 400 naming it, before any handler', async () => {
  const app = appWith({ queries });
  const path = await app.request('/v1/events/a%00b');
  assert.equal(path.status, 400);
  assert.equal((await json(path)).error?.code, 'invalid_path');
  for (const q of ['/v1/reports/events?source=a%00b', '/v1/dead-letters?cursor=x%00', '/v1/reports/events?a%00=1', '/healthz?x=%00']) {
    const res = await app.request(q);
    assert.equal(res.status, 400, q);
    const b = await json(res);
    assert.equal(b.error?.code, 'invalid_query', q);
    assert.match(b.error?.message ?? '', /NUL/);
  }
  const twice = await app.request('/v1/reports/events?type=a&type=b');
  assert.equal(twice.status, 400);
  assert.match((await json(twice)).error?.message ?? '', /^type: given 2 times/);
  assert.deepEqual(lookups, []);
});

test('bad input - a PostgreSQL data exception (22008: year 0000) is a 400, not a 500', async () => {
  const pgError = Object.assign(new Error('date/time field value out of range'), { name: 'PostgresError', code: '22008' });
  const reported: unknown[] = [];
  const app = appWith({ queries: { ...queries, reportEvents: () => Promise.reject(pgError) }, options: { onError: (e) => reported.push(e) } });
  const res = await app.request('/v1/reports/events?from=0000-12-31T00:00:00Z&to=0001-01-02T00:00:00Z');
  assert.equal(res.status, 400);
  assert.ok(['invalid_query', 'invalid_input'].includes((await json(res)).error?.code ?? ''));
});

test('bad input - an unknown route answers the JSON error body', async () => {
  for (const p of ['/nope', '/v1/nothing', '/v1/events/a/b', '/%ff']) {
    const res = await appWith().request(p);
    assert.equal(res.status, 404, p);
    assert.match(res.headers.get('Content-Type') ?? '', /application\/json/);
    assert.equal((await json(res)).error?.code, 'not_found');
  }
});

test('bad input - length limits count code points on ingest and lookup alike', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, queries });
  const id = '👍🏽'.repeat(32) + '😀'.repeat(8); // 72 code points, 144 UTF-16 units
  const accepted = await app.request('/v1/events', postJson(eventInput(1, { id })));
  assert.equal(accepted.status, 202);
  lookups.length = 0;
  assert.equal((await app.request(`/v1/events/${encodeURIComponent(id)}`)).status, 404);
  assert.deepEqual(lookups, [id], 'the store was asked: the id is not "too long" for the lookup');
  const tooLong = '😀'.repeat(129);
  const refused = await app.request('/v1/events', postJson(eventInput(2, { id: tooLong })));
  assert.equal(refused.status, 400);
  lookups.length = 0;
  assert.equal((await app.request(`/v1/events/${encodeURIComponent(tooLong)}`)).status, 404);
  assert.deepEqual(lookups, [], 'an id longer than any accepted one is not looked up');
});

test('bad input - a property named __proto__ is refused by name, never dropped', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest });
  for (const value of ['{"x":1}', '"text"', '1']) {
    const body = `{"id":"p","type":"t","source":"s","occurredAt":"2026-11-20T12:00:00Z","properties":{"a":1,"__proto__":${value}}}`;
    const res = await app.request('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 400, value);
    const b = await json(res);
    assert.deepEqual(b.rejected?.[0]?.errors, [{ path: 'properties.__proto__', message: 'the property name "__proto__" is reserved' }]);
  }
  const top = await app.request('/v1/events', { method: 'POST', body: '{"id":"p","type":"t","source":"s","occurredAt":0,"__proto__":{"id":"x"}}', headers: { 'Content-Type': 'application/json' } });
  assert.equal(top.status, 400);
  assert.match(JSON.stringify(await json(top)), /__proto__/);
  assert.equal(ingest.batches.length, 0);
});

test('bad input - an event older than the retention window is a 400 naming occurredAt and the window', async () => {
  const ingest = recordingIngest();
  const now = Date.parse('2026-11-20T12:00:00Z');
  const app = appWith({ ingest, options: { retentionDays: 30, now: () => now } });
  const old = await app.request('/v1/events', postJson([eventInput(1, { occurredAt: '2026-10-20T23:59:59.999Z' }), eventInput(2, { occurredAt: '2026-10-21T00:00:00Z' })]));
  assert.equal(old.status, 202);
  const b = await json(old);
  assert.equal(b.accepted, 1);
  assert.equal(b.rejected?.[0]?.index, 0);
  assert.equal(b.rejected?.[0]?.errors[0]?.path, 'occurredAt');
  assert.match(b.rejected?.[0]?.errors[0]?.message ?? '', /retention window.*30 whole UTC days.*2026-10-21T00:00:00\.000Z/);
  const one = await app.request('/v1/events', postJson(eventInput(3, { occurredAt: '0001-01-01T00:00:00Z' })));
  assert.equal(one.status, 400);
  assert.match((await json(one)).error?.message ?? '', /occurredAt: is older than the retention window/);
});

test('bad input - a gzip body is accepted, a bomb past the limit is a 413, another encoding a 415', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, options: { maxBodyBytes: 64 * 1024 } });
  const gz = (body: string, encoding = 'gzip') => ({ method: 'POST', body: gzipSync(body), headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding } });
  const ok = await app.request('/v1/events', gz(JSON.stringify([eventInput(1), eventInput(2)])));
  assert.equal(ok.status, 202);
  assert.equal((await json(ok)).accepted, 2);
  assert.equal((await app.request('/v1/events', gz(JSON.stringify(eventInput(3)), 'x-gzip'))).status, 202);
  // 64 MiB of spaces compress to ~64 KiB of gzip; inflating stops at the 64 KiB limit.
  const bomb = await app.request('/v1/events', { method: 'POST', body: gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)), headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
  assert.equal(bomb.status, 413);
  assert.match((await json(bomb)).error?.message ?? '', /once decompressed/);
  const notGzip = await app.request('/v1/events', { method: 'POST', body: '{"id":1}', headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } });
  assert.equal(notGzip.status, 400);
  assert.equal((await json(notGzip)).error?.code, 'invalid_body');
  for (const encoding of ['br', 'deflate', 'gzip, br', 'compress']) {
    const res = await app.request('/v1/events', postJson(eventInput(4), { 'Content-Encoding': encoding }));
    assert.equal(res.status, 415, encoding);
    assert.equal((await json(res)).error?.code, 'unsupported_encoding');
  }
  assert.equal((await app.request('/v1/events', postJson(eventInput(5), { 'Content-Encoding': 'identity' }))).status, 202);
  assert.equal(ingest.batches.length, 3);
});

test('bad input - a body trickled at 1 byte per 100 ms times out with a 408 in the error body', async () => {
  const ingest = recordingIngest();
  const served = await serveApp(appWith({ ingest, options: { bodyTimeoutMs: 500 } }), { port: 0, host: '127.0.0.1' });
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(served.port, '127.0.0.1');
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (got += d));
      socket.on('error', reject);
      socket.write('POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
      const timer = setInterval(() => socket.writable && socket.write('['), 100);
      socket.on('close', () => {
        clearInterval(timer);
        resolve(got);
      });
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    assert.match(body, /"code":"request_timeout"/);
    assert.equal(ingest.batches.length, 0);
  } finally {
    await served.close();
  }
});

test('bad input - POST /v1/events/stream takes gzip NDJSON, refuses other encodings with 415 and old events on occurredAt', async () => {
  const ingest = recordingIngest();
  const now = Date.parse('2026-11-20T12:00:00Z');
  const app = appWith({ ingest, options: { retentionDays: 30, now: () => now } });
  const lines = [eventInput(1), eventInput(2, { occurredAt: '2026-01-01T00:00:00Z' }), eventInput(3)].map((e) => JSON.stringify(e)).join('\n');
  const ok = await app.request('/v1/events/stream', { method: 'POST', body: gzipSync(lines), headers: { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' } });
  assert.equal(ok.status, 202);
  const b = (await ok.json()) as { accepted: number; rejected: { line: number; errors: { path: string; message: string }[] }[] };
  assert.equal(b.accepted, 2);
  assert.deepEqual(b.rejected.map((r) => [r.line, r.errors[0]?.path]), [[2, 'occurredAt']]);
  assert.match(b.rejected[0]?.errors[0]?.message ?? '', /retention window/);
  const br = await app.request('/v1/events/stream', { method: 'POST', body: lines, headers: { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'br' } });
  assert.equal(br.status, 415);
  assert.equal((await json(br)).error?.code, 'unsupported_encoding');
  const corrupt = await app.request('/v1/events/stream', { method: 'POST', body: lines, headers: { 'Content-Type': 'application/x-ndjson', 'Content-Encoding': 'gzip' } });
  assert.equal(corrupt.status, 400);
  assert.equal((await json(corrupt)).error?.code, 'invalid_body');
  assert.deepEqual(ingest.batches.flat().map((e) => e.id), ['e-1', 'e-3']);
});
