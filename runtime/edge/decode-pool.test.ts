import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBody } from '../../http/index.ts';
import { createDecodePool } from './decode-pool.ts';

const options = { maxBatchEvents: 1000, partitionKey: 'userId' } as const;
const pool = createDecodePool(1, options);
after(() => pool.close());

const bodies: Record<string, string> = {
  'a full batch': JSON.stringify({ events: Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}`, type: 'ad.view', source: 'tiktok', occurredAt: 1_763_640_000_000 + i, userId: `u${i % 13}` })) }),
  'a mixed batch': JSON.stringify([{ id: 'ok', type: 't', source: 's', occurredAt: '2026-11-20T12:00:00Z' }, { id: 'no-type', source: 's', occurredAt: 0 }]),
  'malformed JSON': '{"events": [',
  'too many events': JSON.stringify(Array.from({ length: 1001 }, (_, i) => ({ id: `x${i}` }))),
  'not an event': '42',
};

for (const [name, body] of Object.entries(bodies)) {
  test(`decode pool - ${name} gets the same answer in the pool as inline`, async () => {
    const inline = decodeBody(new TextEncoder().encode(body), options);
    const pooled = await pool.decode(new TextEncoder().encode(body));
    assert.deepEqual(pooled, inline);
  });
}

test('decode pool - the pool really decodes (events are encoded with their partition keys)', async () => {
  const r = await pool.decode(new TextEncoder().encode(bodies['a full batch']!));
  assert.ok(r.ok);
  assert.equal(r.events.length, 1000);
  assert.equal(r.events[14]?.key, 'u1');
  assert.equal(JSON.parse(r.events[0]!.value).occurredAt, new Date(1_763_640_000_000).toISOString());
});

test('decode pool - the retention window and the future limit of the request apply in the pool as inline', async () => {
  const retention = { cutoffMs: Date.parse('2026-11-01T00:00:00Z'), days: 30 };
  const future = { cutoffMs: Date.parse('2026-11-02T00:00:00Z'), maxFutureMs: 86_400_000 };
  const body = JSON.stringify([{ id: 'old', type: 't', source: 's', occurredAt: '2026-10-31T23:59:59Z' }, { id: 'new', type: 't', source: 's', occurredAt: '2026-11-01T00:00:00Z' },
    { id: 'ahead', type: 't', source: 's', occurredAt: '2026-11-02T00:00:00.001Z' }]);
  const inline = decodeBody(new TextEncoder().encode(body), { ...options, retention, future });
  const pooled = await pool.decode(new TextEncoder().encode(body), { retention, future });
  assert.deepEqual(pooled, inline);
  assert.ok(pooled.ok);
  assert.deepEqual(pooled.events.map((e) => e.id), ['new']);
  assert.deepEqual(pooled.rejected.map((r) => [r.index, r.errors[0]?.path]), [[0, 'occurredAt'], [2, 'occurredAt']]);
});

test('decode pool - more bodies at once than the pool queues are all decoded (the overflow inline), none refused', async () => {
  const body = bodies['a full batch'] as string;
  const inline = decodeBody(new TextEncoder().encode(body), options);
  const answers = await Promise.all(Array.from({ length: 12 }, () => pool.decode(new TextEncoder().encode(body))));
  for (const a of answers) assert.deepEqual(a, inline);
});
