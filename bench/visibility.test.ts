import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VisibilityMap } from './visibility.ts';

test('visibility - a transaction is visible at the first snapshot past it that no longer lists it in progress', () => {
  const vis = new VisibilityMap(
    [VisibilityMap.parse(1000, '100:100:'), VisibilityMap.parse(1010, '100:103:100,101,102'), VisibilityMap.parse(1020, '101:104:101,103'), VisibilityMap.parse(1030, '104:104:')],
    10,
  );
  assert.equal(vis.visibleAt(99), 1000);
  assert.equal(vis.visibleAt(100), 1020);
  assert.equal(vis.visibleAt(102), 1020);
  assert.equal(vis.visibleAt(101), 1030);
  assert.equal(vis.visibleAt(103), 1030);
  assert.equal(vis.visibleAt(104), undefined, 'a transaction no snapshot saw end is never reported visible');
});

test('visibility - 32-bit row xids are placed in the epoch of the snapshots', () => {
  const epoch = 2 ** 32;
  const vis = new VisibilityMap([VisibilityMap.parse(5, `${epoch + 5}:${epoch + 10}:`)], 5);
  assert.equal(vis.full(7), epoch + 7);
  assert.equal(vis.full(2 ** 32 - 3), 2 ** 32 - 3, 'an xid just before the wrap belongs to the epoch before');
  assert.equal(vis.visibleAt(7), 5);
});
