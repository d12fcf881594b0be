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
