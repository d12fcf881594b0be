import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerBytes, maxRecordBytes, RECORD_BATCH_OVERHEAD_BYTES, recordBytes, SendPlan } from './produce-split.ts';

test('produce split - a record counts its key, value and headers in UTF-8 bytes, with room for its own fields', () => {
  const plain = recordBytes('u', 'ab', 0);
  assert.equal(recordBytes('u', '€€', 0) - plain, 4, 'a three-byte character counts three');
  assert.equal(recordBytes('u', 'ab', headerBytes({ h: 'xyz' })) - plain, 10 + 1 + 3);
  assert.equal(maxRecordBytes(1_000), 1_000 - RECORD_BATCH_OVERHEAD_BYTES);
});

test('produce split - each partition\'s batch stays within the limit; other partitions fill their own batches', () => {
  const plan = new SendPlan(1_000, 10_000, 100);
  let a = 0;
  while (plan.add(0, 100)) a++;
  assert.equal(a, 9, '61 + 9 × 100 <= 1000 < 61 + 10 × 100');
  assert.ok(plan.add(1, 100), 'partition 1 has its own batch');
  assert.equal(plan.messages, 10);
});

test('produce split - the whole send is bounded in bytes and messages, and a lone record always goes', () => {
  const bytes = new SendPlan(1_000, 250, 100);
  assert.ok(bytes.add(0, 100) && bytes.add(1, 100));
  assert.equal(bytes.add(2, 100), false);
  const count = new SendPlan(1_000, 10_000, 2);
  assert.ok(count.add(0, 1) && count.add(0, 1));
  assert.equal(count.add(0, 1), false);
  const lone = new SendPlan(100, 100, 1);
  assert.ok(lone.add(0, 5_000), 'the caller refuses a record too large for any batch before planning it');
});
