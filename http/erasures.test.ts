// The erasure routes in-process: 202 only once the command is acknowledged and recorded, the
// right error otherwise, and GET answers what the store holds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErasurePort, ErasureRequest, ErasureView } from './ports.ts';
import { appWith } from './test-helpers.ts';

function recordingErasures(fail: { produce?: boolean; record?: boolean } = {}) {
  const produced: ErasureRequest[] = [];
  const rows = new Map<string, ErasureView>();
  const port: ErasurePort = {
    produce: (r) => (fail.produce ? Promise.reject(new Error('kafka down')) : (produced.push(r), Promise.resolve())),
    record: (r) => {
      if (fail.record) return Promise.reject(new Error('postgres down'));
      rows.set(r.erasureId, { id: r.erasureId, userId: r.userId, status: 'pending', eventsErased: 0, requestedAt: new Date(r.requestedAt).toISOString() });
      return Promise.resolve();
    },
    get: (id) => Promise.resolve(rows.get(id)),
  };
  return { port, produced, rows };
}

test('DELETE /v1/users/:userId - 202 pending once the command is produced and recorded, and the erasure is readable at once', async () => {
  const e = recordingErasures();
  const app = appWith({ erasures: e.port });
  const res = await app.request('/v1/users/u%2F42', { method: 'DELETE' });
  assert.equal(res.status, 202);
  const body = (await res.json()) as { erasureId: string; status: string };
  assert.equal(body.status, 'pending');
  assert.deepEqual(e.produced.map((p) => [p.erasureId, p.userId]), [[body.erasureId, 'u/42']]);
  const got = await app.request(`/v1/erasures/${body.erasureId}`);
  assert.equal(got.status, 200);
  assert.equal(((await got.json()) as ErasureView).userId, 'u/42');
  assert.equal((await app.request('/v1/erasures/unknown')).status, 404);
});

test('DELETE /v1/users/:userId - 503 with Retry-After when Kafka does not acknowledge, and nothing recorded', async () => {
  const e = recordingErasures({ produce: true });
  const res = await appWith({ erasures: e.port }).request('/v1/users/u-1', { method: 'DELETE' });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('Retry-After'), '5');
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'kafka_unavailable');
  assert.equal(e.rows.size, 0);
});

test('DELETE /v1/users/:userId - 503 store_unavailable naming the erasure when the store cannot record the acknowledged command', async () => {
  const e = recordingErasures({ record: true });
  const res = await appWith({ erasures: e.port }).request('/v1/users/u-1', { method: 'DELETE' });
  assert.equal(res.status, 503);
  const body = (await res.json()) as { error: { code: string; details: { erasureId: string } } };
  assert.equal(body.error.code, 'store_unavailable');
  assert.equal(body.error.details.erasureId, e.produced[0]?.erasureId);
});

test('DELETE /v1/users/:userId - 400 for a userId over 128 characters, 409 when events are partitioned by id', async () => {
  const e = recordingErasures();
  const long = await appWith({ erasures: e.port }).request(`/v1/users/${'x'.repeat(129)}`, { method: 'DELETE' });
  assert.equal(long.status, 400);
  const idMode = await appWith({ erasures: e.port, options: { partitionKey: 'id' } }).request('/v1/users/u-1', { method: 'DELETE' });
  assert.equal(idMode.status, 409);
  assert.equal(((await idMode.json()) as { error: { code: string } }).error.code, 'erasure_unsupported');
  assert.equal(e.produced.length, 0);
});

test('DELETE /v1/users/:userId - 409 naming KEYFLOW_EDGE_TOKEN when the deployment has no secret to sign the command, and nothing produced', async () => {
  const e = recordingErasures();
  const unsigned = await appWith({ erasures: e.port, options: { commandsSigned: false } }).request('/v1/users/u-1', { method: 'DELETE' });
  assert.equal(unsigned.status, 409);
  const body = (await unsigned.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'erasure_unsupported');
  assert.match(body.error.message, /KEYFLOW_EDGE_TOKEN/);
  assert.equal(e.produced.length, 0);
  assert.equal((await appWith({ erasures: e.port, options: { commandsSigned: true } }).request('/v1/users/u-1', { method: 'DELETE' })).status, 202);
});
