// serveApp is the one piece of http/ that owns a socket, so these tests bind 127.0.0.1:0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { serveApp } from './serve.ts';
import { appWith } from './test-helpers.ts';

test('serveApp - answers on the bound port, and close is idempotent', async () => {
  const served = await serveApp(appWith(), { port: 0, host: '127.0.0.1' });
  assert.ok(served.port > 0);
  const res = await fetch(`http://127.0.0.1:${served.port}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  const first = served.close();
  assert.equal(served.close(), first, 'a second close returns the same promise');
  await first;
  await served.close();
  await assert.rejects(fetch(`http://127.0.0.1:${served.port}/healthz`));
});

test('serveApp - a chunked body over the limit is refused with 413 while it is read', async () => {
  const served = await serveApp(appWith({ options: { maxBodyBytes: 1024 } }), { port: 0, host: '127.0.0.1' });
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: served.port, method: 'POST', path: '/v1/events', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // No Content-Length: node sends Transfer-Encoding: chunked.
      for (let i = 0; i < 8; i++) req.write('x'.repeat(512));
      req.end();
    });
    assert.equal(status, 413);
  } finally {
    await served.close();
  }
});

test('serveApp - rejects when the port is already taken', async () => {
  const served = await serveApp(appWith(), { port: 0, host: '127.0.0.1' });
  try {
    await assert.rejects(serveApp(appWith(), { port: served.port, host: '127.0.0.1' }), { code: 'EADDRINUSE' });
  } finally {
    await served.close();
  }
});
