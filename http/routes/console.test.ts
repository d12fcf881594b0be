import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { errorResponse } from '../errors.ts';
import { appWith } from '../test-helpers.ts';
import { consoleDir, consoleRoutes } from './console.ts';

const keyed = () => appWith({ options: { apiKeys: [{ name: 'console', secret: 'k-console', scopes: ['read'] }] } });

test('console - GET / is the page, with no API key needed even when keys are configured', async () => {
  const res = await keyed().request('/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('Content-Type'), 'text/html; charset=utf-8');
  assert.equal(res.headers.get('Cache-Control'), 'no-cache');
  assert.match(res.headers.get('ETag') ?? '', /^"[\w-]{27}"$/);
  assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff');
  assert.match(res.headers.get('Content-Security-Policy') ?? '', /default-src 'none'.*script-src 'self'.*connect-src 'self'/);
  const html = await res.text();
  assert.equal(html, await readFile(join(consoleDir, 'index.html'), 'utf8'));
  assert.match(html, /<script type="module" src="\/console\/console\.js"><\/script>/);
});

test('console - HEAD answers like GET without a body', async () => {
  const app = keyed();
  for (const path of ['/', '/console/console.js', '/console/console.css']) {
    const get = await app.request(path);
    const head = await app.request(path, { method: 'HEAD' });
    assert.equal(head.status, 200, path);
    for (const h of ['Content-Type', 'Content-Length', 'ETag', 'Cache-Control']) assert.equal(head.headers.get(h), get.headers.get(h), `${path} ${h}`);
    assert.equal(Number(head.headers.get('Content-Length')), (await get.arrayBuffer()).byteLength, path);
    assert.equal((await head.arrayBuffer()).byteLength, 0, path);
  }
});

test('console - every file the page and its modules load is served with its content type', async () => {
  const app = keyed();
  const html = await (await app.request('/')).text();
  const refs = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] ?? '');
  assert.ok(refs.includes('/console/console.css') && refs.includes('/console/console.js'), refs.join(' '));
  const seen = new Set<string>();
  while (refs.length > 0) {
    const path = refs.pop() ?? '';
    if (seen.has(path)) continue;
    seen.add(path);
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    const type = path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    assert.equal(res.headers.get('Content-Type'), type, path);
    const body = await res.text();
    // The modules import each other by relative path: follow them.
    for (const m of body.matchAll(/from '\.\/([\w-]+\.js)'/g)) refs.push(`/console/${m[1] ?? ''}`);
  }
  assert.ok(seen.size >= 4, `modules followed: ${[...seen].join(' ')}`);
});

test('console - a matching If-None-Match is a 304 with the same ETag and no body', async () => {
  const app = keyed();
  const first = await app.request('/console/console.js');
  const etag = first.headers.get('ETag') ?? '';
  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await app.request('/console/console.js', { headers: { 'If-None-Match': inm } });
    assert.equal(again.status, 304, inm);
    assert.equal(again.headers.get('ETag'), etag);
    assert.equal(again.headers.get('Cache-Control'), 'no-cache');
    assert.equal((await again.arrayBuffer()).byteLength, 0);
  }
  const stale = await app.request('/console/console.js', { headers: { 'If-None-Match': '"old"' } });
  assert.equal(stale.status, 200);
});

test('console - the routes shadow neither the API nor its 404s and 401s', async () => {
  const app = keyed();
  const api = await app.request('/v1/reports/events');
  assert.equal(api.status, 401, 'the API still wants its key');
  for (const path of ['/console/nope.js', '/console/', '/console/../package.json', '/index.html', '/console/console.test.ts']) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found', path);
  }
  // The page is GET only: another method is a 405 naming what it serves.
  const post = await app.request('/', { method: 'POST' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('Allow'), 'GET, HEAD');
});

test('console - only .html, .js and .css files of the folder are served', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyflow-console-'));
  try {
    await writeFile(join(dir, 'index.html'), '<p>hi</p>');
    await writeFile(join(dir, 'x.ts'), 'export {}');
    await writeFile(join(dir, '.env'), 'SECRET=1');
    const app = new Hono().route('/', consoleRoutes(dir)).onError((e, c) => errorResponse(c, e));
    assert.equal(await (await app.request('/')).text(), '<p>hi</p>');
    assert.equal((await app.request('/console/x.ts')).status, 404);
    assert.equal((await app.request('/console/.env')).status, 404);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
