import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appWith, deferred, eventInput, postJson, queriesMustNotBeCalled, recordingIngest } from './test-helpers.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
const json = async (res: Response) => (await res.json()) as Json;

test('POST /v1/events - one event is published and answered 202 with its id', async () => {
  const ingest = recordingIngest();
  const accepted: number[] = [];
  const app = appWith({ ingest, options: { onAccepted: (n) => accepted.push(n) } });
  const res = await app.request('/v1/events', postJson(eventInput(1)));
  assert.equal(res.status, 202);
  assert.deepEqual(await res.json(), { accepted: 1, ids: ['e-1'], rejected: [] });
  assert.equal(ingest.batches.length, 1);
  assert.equal(JSON.parse(ingest.batches[0]?.[0]?.value ?? '{}').occurredAt, '2026-11-20T12:00:00.000Z', 'published in the canonical wire form');
  assert.deepEqual(accepted, [1]);
});

test('POST /v1/events - an array and an { events } envelope are each published in one call', async () => {
  for (const body of [[eventInput(1), eventInput(2)], { events: [eventInput(1), eventInput(2)] }]) {
    const ingest = recordingIngest();
    const res = await appWith({ ingest }).request('/v1/events', postJson(body));
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: 2, ids: ['e-1', 'e-2'], rejected: [] });
    assert.deepEqual(ingest.batches.map((b) => b.map((e) => e.id)), [['e-1', 'e-2']]);
  }
});

test('POST /v1/events - a mixed batch publishes only the valid events and names the rejected indices', async () => {
  const ingest = recordingIngest();
  const rejectedCounts: number[] = [];
  const app = appWith({ ingest, options: { onRejected: (n) => rejectedCounts.push(n) } });
  const { type: _type, ...withoutType } = eventInput(1);
  const body = [eventInput(0), withoutType, eventInput(2), eventInput(3, { funnelStage: 'middle' })];
  const res = await app.request('/v1/events', postJson(body));
  assert.equal(res.status, 202);
  const b = await json(res);
  assert.equal(b.accepted, 2);
  assert.deepEqual(b.ids, ['e-0', 'e-2']);
  const rejected = b.rejected as { index: number; errors: { path: string; message: string }[] }[];
  assert.deepEqual(rejected.map((r) => r.index), [1, 3]);
  assert.deepEqual(rejected[0]?.errors.map((e) => e.path), ['type']);
  assert.deepEqual(rejected[1]?.errors.map((e) => e.path), ['funnelStage']);
  assert.deepEqual(ingest.batches.map((batch) => batch.map((e) => e.id)), [['e-0', 'e-2']]);
  assert.deepEqual(rejectedCounts, [2]);
});

test('POST /v1/events - the 202 is sent only after publish resolved', async () => {
  const gate = deferred();
  let handed = 0;
  const app = appWith({ ingest: { publish: (events) => ((handed = events.length), gate.promise) } });
  let answered = false;
  const pending = Promise.resolve(app.request('/v1/events', postJson([eventInput(1), eventInput(2)]))).then((res) => ((answered = true), res));
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(handed, 2, 'publish was called');
  assert.equal(answered, false, 'no answer while Kafka has not acknowledged');
  gate.resolve();
  const res = await pending;
  assert.equal(res.status, 202);
  assert.equal((await json(res)).accepted, 2);
});

test('POST /v1/events - when publish fails the answer is 503 with Retry-After and nothing accepted', async () => {
  const counted: string[] = [];
  const failure = Object.assign(new Error('broker down'), { code: 'KEYFLOW_KAFKA_UNAVAILABLE' });
  const errors: unknown[] = [];
  const app = appWith({
    ingest: { publish: () => Promise.reject(failure) },
    options: { onAccepted: () => counted.push('accepted'), onError: (e) => errors.push(e) },
  });
  const res = await app.request('/v1/events', postJson([eventInput(1), eventInput(2)]));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('Retry-After'), '5');
  const b = await json(res);
  assert.equal(b.error?.code, 'kafka_unavailable');
  assert.equal(b.accepted, 0);
  assert.deepEqual(b.ids, []);
  assert.doesNotMatch(JSON.stringify(b), /broker down/, 'the cause stays on the server');
  assert.deepEqual(counted, []);
  assert.deepEqual(errors, [failure]);
});

test('POST /v1/events - malformed JSON is a 400 invalid_json and nothing is published', async () => {
  const app = appWith();
  for (const body of ['{"id": ', '', 'not json']) {
    const res = await app.request('/v1/events', { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await json(res)).error?.code, 'invalid_json');
  }
});

test('POST /v1/events - a body that is none of the three shapes is a 400 invalid_body', async () => {
  const app = appWith();
  for (const body of [42, 'event', null, [], { events: 'nope' }, { events: [], extra: 1 }]) {
    const res = await app.request('/v1/events', postJson(body));
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await json(res)).error?.code, 'invalid_body', JSON.stringify(body));
  }
});

test('POST /v1/events - an event without type is a 400 naming type, with the ingest body shape', async () => {
  const rejectedCounts: number[] = [];
  const app = appWith({ options: { onRejected: (n) => rejectedCounts.push(n) } });
  const { type: _type, ...withoutType } = eventInput(1);
  const res = await app.request('/v1/events', postJson(withoutType));
  assert.equal(res.status, 400);
  const b = await json(res);
  assert.equal(b.error?.code, 'validation_failed');
  assert.match(b.error?.message ?? '', /\btype\b/);
  assert.equal(b.accepted, 0);
  assert.deepEqual(b.ids, []);
  assert.deepEqual(b.rejected, [{ index: 0, errors: [{ path: 'type', message: (b.rejected as { errors: { message: string }[] }[])[0]?.errors[0]?.message }] }]);
  assert.deepEqual(rejectedCounts, [1]);
});

test('POST /v1/events - a body over the limit is a 413 whether or not Content-Length announces it', async () => {
  const app = appWith({ options: { maxBodyBytes: 1024 } });
  const big = JSON.stringify(eventInput(1, { properties: { blob: 'x'.repeat(1000) } }));
  assert.ok(big.length > 1024);
  const announced = await app.request('/v1/events', {
    method: 'POST',
    body: big,
    headers: { 'Content-Type': 'application/json', 'Content-Length': String(big.length) },
  });
  assert.equal(announced.status, 413);
  assert.equal((await json(announced)).error?.code, 'payload_too_large');

  const streamed = await app.request('/v1/events', {
    method: 'POST',
    body: new Blob([big]).stream(),
    headers: { 'Content-Type': 'application/json' },
    duplex: 'half',
  } as RequestInit);
  assert.equal(streamed.status, 413);
  assert.equal((await json(streamed)).error?.code, 'payload_too_large');

  const understated = await app.request('/v1/events', {
    method: 'POST',
    body: big,
    headers: { 'Content-Type': 'application/json', 'Content-Length': '10' },
  });
  assert.equal(understated.status, 413);
  assert.equal((await json(understated)).error?.code, 'payload_too_large');
});

test('POST /v1/events - 1,001 events is a 413 too_many_events and 1,000 is accepted', async () => {
  const app = appWith({ options: { maxBodyBytes: 1024 * 1024 } });
  const res = await app.request('/v1/events', postJson(Array.from({ length: 1001 }, (_, i) => eventInput(i))));
  assert.equal(res.status, 413);
  const b = await json(res);
  assert.equal(b.error?.code, 'too_many_events');
  assert.deepEqual(b.error?.details, { maxBatchEvents: 1000, received: 1001 });

  const ingest = recordingIngest();
  const ok = await appWith({ ingest, options: { maxBodyBytes: 1024 * 1024 } }).request(
    '/v1/events',
    postJson({ events: Array.from({ length: 1000 }, (_, i) => eventInput(i)) }),
  );
  assert.equal(ok.status, 202);
  assert.equal(ingest.batches[0]?.length, 1000);
});

test('GET /v1/events/:id - answers the stored event, or 404 not_found', async () => {
  const stored = {
    id: 'e-1',
    type: 'page.view',
    source: 'web',
    occurredAt: '2026-11-20T12:00:00.000Z',
    receivedAt: '2026-11-20T12:00:01.000Z',
  };
  const asked: string[] = [];
  const app = appWith({
    queries: {
      ...queriesMustNotBeCalled,
      getEvent: (id) => (asked.push(id), Promise.resolve(id === 'e-1' ? stored : undefined)),
      reportEvents: () => assert.fail('not a report'),
      listDeadLetters: () => assert.fail('not a dead-letter listing'),
    },
  });
  const found = await app.request('/v1/events/e-1');
  assert.equal(found.status, 200);
  assert.deepEqual(await found.json(), stored);
  const missing = await app.request('/v1/events/e-2');
  assert.equal(missing.status, 404);
  assert.equal((await json(missing)).error?.code, 'not_found');
  assert.deepEqual(asked, ['e-1', 'e-2']);
});
