import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { boundDeadLetter } from './dead-letter.ts';
import type { DeadLetterRow } from './flush.ts';

const row = (raw: Uint8Array | null): DeadLetterRow => ({ topic: 't', partition: 1, offset: '5', key: null, raw, reason: 'not-json', error: 'e' });

test('boundDeadLetter - a value over the cap keeps a copied prefix, its full length and its SHA-256', () => {
  const source = new Uint8Array(10_000).fill(7);
  const raw = source.subarray(1_000, 6_000);
  const bounded = boundDeadLetter(row(raw), 1_024);
  assert.equal(bounded.raw?.byteLength, 1_024);
  assert.notEqual(bounded.raw?.buffer, source.buffer, 'the prefix must not keep the source buffer alive');
  assert.equal(bounded.rawLength, 5_000);
  assert.equal(Buffer.from(bounded.rawSha256 ?? []).toString('hex'), createHash('sha256').update(raw).digest('hex'));
});

test('boundDeadLetter - a value under the cap is kept whole; a tombstone and a bounded row are left alone', () => {
  const small = boundDeadLetter(row(new Uint8Array([1, 2, 3])), 1_024);
  assert.deepEqual([...(small.raw ?? [])], [1, 2, 3]);
  assert.equal(small.rawLength, 3);
  const tombstone = row(null);
  assert.equal(boundDeadLetter(tombstone, 1_024), tombstone);
  assert.equal(boundDeadLetter(small, 1), small);
  assert.throws(() => boundDeadLetter(tombstone, -1), RangeError);
});
