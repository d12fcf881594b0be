import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { decodeMessage } from './decode-message.ts';
import { misKeyedFrom, misKeyOf } from './reproduce.ts';

const event = (userId?: string) => Buffer.from(JSON.stringify({ id: 'e1', type: 't', source: 's', occurredAt: 1_700_000_000_000, ...(userId !== undefined && { userId }) }));
const message = (key: string | null, value: Buffer | null, offset = '0'): KafkaMessage =>
  ({ key: key === null ? null : Buffer.from(key), value, headers: {}, offset, timestamp: '1', attributes: 0, size: 0 }) as KafkaMessage;

test('misKeyOf - an event keyed by its partition key stays; keyless or keyed otherwise goes to its partition key', () => {
  const on = (m: KafkaMessage, mode: 'userId' | 'id' = 'userId') => misKeyOf(m, decodeMessage(m), mode);
  assert.equal(on(message('u-1', event('u-1'))), undefined);
  assert.equal(on(message(null, event('u-1'))), 'u-1');
  assert.equal(on(message('other', event('u-1'))), 'u-1');
  assert.equal(on(message('u-1x', event('u-1'))), 'u-1');
  assert.equal(on(message(null, event())), 'e1', 'without a userId the id is the partition key');
  assert.equal(on(message('u-1', event('u-1')), 'id'), 'e1');
});

test('misKeyOf - dead letters and commands are never re-produced', () => {
  for (const m of [message(null, Buffer.from('junk')), message(null, null)]) assert.equal(misKeyOf(m, decodeMessage(m), 'userId'), undefined);
});

test('misKeyedFrom - finds the mis-keyed events from an index on, decoding what was not decoded yet', () => {
  const batch = [message(null, event('a'), '10'), message('b', event('b'), '11'), message(null, event('c'), '12'), message('x', event('d'), '13')];
  const decoded = [decodeMessage(batch[0] as KafkaMessage)];
  assert.deepEqual(misKeyedFrom(batch, decoded, 1, 'userId', (m) => decodeMessage(m)), [{ index: 2, key: 'c' }, { index: 3, key: 'd' }]);
  assert.equal(decoded.length, 4);
});
