import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErasureFences } from './erasure.ts';

test('ErasureFences - a copy produced before a done erasure of its key was requested is dropped; a later one, another key or partition is not', () => {
  const fences = new ErasureFences();
  fences.erased(2, 'u-1', 1_000);
  assert.equal(fences.dropsCopy(2, 'u-1', 999), true);
  assert.equal(fences.dropsCopy(2, 'u-1', 1_000), true);
  assert.equal(fences.dropsCopy(2, 'u-1', 1_001), false, 'sent after the erasure: new data');
  assert.equal(fences.dropsCopy(2, 'u-2', 999), false);
  assert.equal(fences.dropsCopy(3, 'u-1', 999), false);
  fences.erased(2, 'u-1', 500);
  assert.equal(fences.dropsCopy(2, 'u-1', 999), true, 'the newest erasure counts');
  fences.reset();
  assert.equal(fences.dropsCopy(2, 'u-1', 999), false, 'a new assignment loads them again');
});
