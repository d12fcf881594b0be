// KEYFLOW_MAX_FUTURE at the edge (DESIGN.md, The event): an event further ahead of the
// server's clock than the limit is refused like an expired one, a 400 naming occurredAt and
// the limit, on every ingest route; up to the limit it is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appWith, eventInput, postJson, recordingIngest } from './test-helpers.ts';

type Rejected = { index?: number; line?: number; errors: { path: string; message: string }[] };
type Body = { error?: { code: string; message: string }; accepted?: number; rejected?: Rejected[] };

const now = Date.parse('2026-11-20T12:00:00Z');
const DAY = 86_400_000;

test('clock skew - an event more than KEYFLOW_MAX_FUTURE ahead is a 400 naming occurredAt and the limit; one at the limit is taken', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, options: { maxFutureMs: DAY, now: () => now } });
  const far = await app.request('/v1/events', postJson(eventInput(1, { occurredAt: '9999-12-31T23:59:59.999Z' })));
  assert.equal(far.status, 400);
  const b = (await far.json()) as Body;
  assert.equal(b.error?.code, 'validation_failed');
  assert.match(b.error?.message ?? '', /occurredAt: is more than 1d ahead of the server's clock \(KEYFLOW_MAX_FUTURE=1d\), so occurredAt must be at or before 2026-11-21T12:00:00\.000Z/);
  const mixed = await app.request('/v1/events', postJson([eventInput(2, { occurredAt: now + DAY + 1 }), eventInput(3, { occurredAt: now + DAY }), eventInput(4, { occurredAt: new Date(now + DAY).toISOString().replace('Z', '+05:30') })]));
  assert.equal(mixed.status, 202);
  const m = (await mixed.json()) as Body;
  assert.equal(m.accepted, 2, 'at the limit is taken, as is an instant written in another offset that is really earlier');
  assert.deepEqual(m.rejected?.map((r) => [r.index, r.errors[0]?.path]), [[0, 'occurredAt']]);
  assert.deepEqual(ingest.batches.flat().map((e) => e.id), ['e-3', 'e-4']);
});

test('clock skew - the limit is configurable, and without it (no KEYFLOW_MAX_FUTURE given to the app) nothing is refused for being ahead', async () => {
  const strict = appWith({ ingest: recordingIngest(), options: { maxFutureMs: 30 * 60_000, now: () => now } });
  const ahead = await strict.request('/v1/events', postJson(eventInput(1, { occurredAt: now + 31 * 60_000 })));
  assert.equal(ahead.status, 400);
  assert.match(((await ahead.json()) as Body).error?.message ?? '', /more than 30m ahead.*KEYFLOW_MAX_FUTURE=30m/);
  assert.equal((await strict.request('/v1/events', postJson(eventInput(2, { occurredAt: now + 29 * 60_000 })))).status, 202);
  const open = appWith({ ingest: recordingIngest(), options: { now: () => now } });
  assert.equal((await open.request('/v1/events', postJson(eventInput(3, { occurredAt: '9999-12-31T00:00:00Z' })))).status, 202);
});

test('clock skew - POST /v1/events/stream rejects a line too far ahead by its number and takes the rest', async () => {
  const ingest = recordingIngest();
  const app = appWith({ ingest, options: { maxFutureMs: DAY, now: () => now } });
  const lines = [eventInput(1), eventInput(2, { occurredAt: '9999-12-31T00:00:00Z' }), eventInput(3)].map((e) => JSON.stringify(e)).join('\n');
  const res = await app.request('/v1/events/stream', { method: 'POST', body: lines, headers: { 'Content-Type': 'application/x-ndjson' } });
  assert.equal(res.status, 202);
  const b = (await res.json()) as Body;
  assert.equal(b.accepted, 2);
  assert.deepEqual(b.rejected?.map((r) => [r.line, r.errors[0]?.path]), [[2, 'occurredAt']]);
  assert.match(b.rejected?.[0]?.errors[0]?.message ?? '', /KEYFLOW_MAX_FUTURE=1d/);
});
