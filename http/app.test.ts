import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApiPath } from './openapi/document.ts';
import { allRouteDocs } from './openapi/routes.ts';
import { appWith, eventInput, postJson, recordingIngest } from './test-helpers.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
const json = async (res: Response) => (await res.json()) as Json;

test('app - an unknown route is a 404 in the error body', async () => {
  const res = await appWith().request('/v2/nothing?x=1');
  assert.equal(res.status, 404);
  assert.match(res.headers.get('Content-Type') ?? '', /application\/json/);
  const b = await json(res);
  assert.equal(b.error?.code, 'not_found');
  assert.match(b.error?.message ?? '', /GET \/v2\/nothing/);
});

test('app - an uncaught exception is a 500 that leaks neither message nor stack, and is reported', async () => {
  const reported: unknown[] = [];
  const boom = new Error('password=hunter2 at db.ts:42');
  const app = appWith({
    metrics: { contentType: 'text/plain', render: () => Promise.reject(boom) },
    options: { onError: (e) => reported.push(e) },
  });
  const res = await app.request('/metrics', { headers: { 'X-Request-Id': 'req-500' } });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'internal server error' } });
  assert.doesNotMatch(text, /hunter2|db\.ts/);
  assert.deepEqual(reported, [boom]);
  assert.equal(res.headers.get('X-Request-Id'), 'req-500');
});

test('app - a sane X-Request-Id is echoed, and one is generated when absent or unsafe', async () => {
  const app = appWith();
  const kept = await app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123_XYZ' } });
  assert.equal(kept.headers.get('X-Request-Id'), 'abc-123_XYZ');
  const generated = await app.request('/healthz');
  assert.match(generated.headers.get('X-Request-Id') ?? '', /^[0-9a-f-]{36}$/);
  for (const unsafe of ['a b', 'x'.repeat(129), '<script>']) {
    const res = await app.request('/healthz', { headers: { 'X-Request-Id': unsafe } });
    const id = res.headers.get('X-Request-Id') ?? '';
    assert.notEqual(id, unsafe);
    assert.match(id, /^[0-9a-f-]{36}$/);
  }
  const error = await app.request('/nowhere', { headers: { 'X-Request-Id': 'on-error' } });
  assert.equal(error.headers.get('X-Request-Id'), 'on-error', 'error answers carry it too');
});

test('app - with API keys configured, /v1 routes need one as Bearer or X-API-Key', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, options: { apiKeys: [{ name: 'one', secret: 'k-one', scopes: ['ingest', 'read', 'admin'] }, { name: 'two', secret: 'k-two', scopes: ['ingest', 'read', 'admin'] }] } });
  const missing = await app.request('/v1/events', postJson(eventInput(1)));
  assert.equal(missing.status, 401);
  assert.equal((await json(missing)).error?.code, 'unauthorized');
  assert.match(missing.headers.get('WWW-Authenticate') ?? '', /^Bearer/);

  for (const headers of [{ Authorization: 'Bearer k-on' }, { Authorization: 'Bearer k-one-' }, { 'X-API-Key': 'nope' }, { Authorization: 'Basic k-one' }]) {
    const res = await app.request('/v1/events', postJson(eventInput(1), headers));
    assert.equal(res.status, 401, JSON.stringify(headers));
    assert.equal((await json(res)).error?.code, 'unauthorized');
  }
  const unknownRoute = await app.request('/v1/nothing');
  assert.equal(unknownRoute.status, 401, 'the /v1 namespace is not probed without a key');
  assert.equal(ingest.batches.length, 0);

  const bearer = await app.request('/v1/events', postJson(eventInput(1), { Authorization: 'Bearer k-two' }));
  assert.equal(bearer.status, 202);
  const header = await app.request('/v1/events', postJson(eventInput(2), { 'X-API-Key': 'k-one' }));
  assert.equal(header.status, 202);
  assert.equal(ingest.batches.length, 2);
});

test('app - with API keys configured, /healthz, /readyz, /metrics and /openapi.json stay open', async () => {
  const app = appWith({
    health: { readiness: () => Promise.resolve({ ready: true, checks: {} }) },
    metrics: { contentType: 'text/plain; version=0.0.4', render: () => Promise.resolve('') },
    options: { apiKeys: [{ name: 'k', secret: 'k', scopes: ['read'] }] },
  });
  for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
    assert.equal((await app.request(path)).status, 200, path);
  }
});

test('app - without API keys, /v1 routes are open', async () => {
  const res = await appWith({ ingest: recordingIngest() }).request('/v1/events', postJson(eventInput(1)));
  assert.equal(res.status, 202);
});

test('GET /healthz - answers ok without asking any dependency', async () => {
  const res = await appWith().request('/healthz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('GET /readyz - 200 with the checks when ready', async () => {
  const checks = { kafka: { ok: true }, postgres: { ok: true } };
  const res = await appWith({ health: { readiness: () => Promise.resolve({ ready: true, checks }) } }).request('/readyz');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ready: true, checks });
});

test('GET /readyz - 503 with Retry-After, the checks, and the failing ones named in the message', async () => {
  const checks = { kafka: { ok: true }, postgres: { ok: false, detail: 'connection refused' }, redis: { ok: false } };
  const res = await appWith({ health: { readiness: () => Promise.resolve({ ready: false, checks }) } }).request('/readyz');
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('Retry-After'), '5');
  const b = await json(res);
  assert.equal(b.ready, false);
  assert.deepEqual(b.checks, checks);
  assert.equal(b.error?.code, 'not_ready');
  assert.equal(b.error?.message, 'not ready: postgres (connection refused), redis');
});

test('GET /readyz - a readiness probe that throws is a 503, not a 500', async () => {
  const res = await appWith({ health: { readiness: () => Promise.reject(new Error('x')) } }).request('/readyz');
  assert.equal(res.status, 503);
  assert.equal((await json(res)).error?.code, 'not_ready');
});

test('GET /metrics - answers the registry text with its content type', async () => {
  const contentType = 'text/plain; version=0.0.4; charset=utf-8';
  const text = '# HELP keyflow_up 1\nkeyflow_up 1\n';
  const res = await appWith({ metrics: { contentType, render: () => Promise.resolve(text) } }).request('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('Content-Type'), contentType);
  assert.equal(await res.text(), text);
});

test('GET /openapi.json - every route the app serves has a RouteDoc, every RouteDoc a route, and the document lists exactly them', async () => {
  const app = appWith();
  const res = await app.request('/openapi.json');
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  assert.equal(doc.openapi, '3.1.0');
  const served = [
    ...new Set(
      app.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method} ${openApiPath(r.path.replace(/\/$/, '')) || '/'}`),
    ),
  ].sort();
  const described = allRouteDocs.map((d) => `${d.method.toUpperCase()} ${openApiPath(d.path)}`).sort();
  assert.deepEqual(described, served, 'allRouteDocs and the routes createApp mounts');
  const documented = Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
  assert.deepEqual(documented, served, 'the served document and the routes createApp mounts');
});

test('app - a method a path does not serve is a 405 with Allow; an unknown path stays a 404', async () => {
  const app = appWith({ health: { readiness: () => Promise.resolve({ ready: true, checks: {} }) } });
  for (const [method, path, allow] of [
    ['POST', '/healthz', 'GET, HEAD'],
    ['POST', '/readyz', 'GET, HEAD'],
    ['PUT', '/v1/events/e-1', 'GET, HEAD'],
    ['PATCH', '/v1/users/u-1', 'DELETE, GET, HEAD'],
    ['OPTIONS', '/v1/events', 'GET, HEAD, POST'],
    ['DELETE', '/v1/analytics/summary', 'GET, HEAD'],
  ] as const) {
    const res = await app.request(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('Allow'), allow, `${method} ${path}`);
    const body = await json(res);
    assert.equal(body.error?.code, 'method_not_allowed');
  }
  assert.equal((await app.request('/v1/nothing', { method: 'PUT' })).status, 404);
  assert.equal((await app.request('/healthz/x', { method: 'POST' })).status, 404);
  assert.equal((await app.request('/healthz', { method: 'HEAD' })).status, 200);
});

test('app - a path a route names literally allows only that route\'s methods', async () => {
  const res = await appWith().request('/v1/events/stream', { method: 'OPTIONS' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('Allow'), 'POST');
});
