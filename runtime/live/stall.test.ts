import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartitionLag } from '../../http/index.ts';
import { describeStalls, StallDetector } from './stall.ts';

const owner = { process: 'http://a:1', workerId: 0 };
const part = (partition: number, committedOffset: number | null, lag: number, o: PartitionLag['owner'] = owner): PartitionLag => ({ partition, committedOffset, highWatermark: (committedOffset ?? 0) + lag, lag, owner: o });
const none = new Map();

test('stall - a partition with lag and no progress for the window is stalled, and named', () => {
  const d = new StallDetector(1_000);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5), part(1, 3, 0)] }, none, 0), []);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5), part(1, 3, 0)] }, none, 999), []);
  const stalled = d.observe({ partitions: [part(0, 10, 7), part(1, 3, 0)] }, none, 1_000);
  assert.deepEqual(stalled, [{ partition: 0, why: 'no-progress', lag: 7, forMs: 1_000 }]);
  assert.equal(describeStalls(stalled), 'partition 0 stalled: lag 7 and no progress for 1 s');
  // Progress (the committed offset moved) ends the stall and restarts the clock.
  assert.deepEqual(d.observe({ partitions: [part(0, 12, 5), part(1, 3, 0)] }, none, 1_500), []);
  assert.deepEqual(d.observe({ partitions: [part(0, 12, 5), part(1, 3, 0)] }, none, 2_499), []);
  assert.equal(d.observe({ partitions: [part(0, 12, 5), part(1, 3, 0)] }, none, 2_500).length, 1);
});

test('stall - paused by backpressure or waiting for PostgreSQL is not a stall; the window starts again when that ends', () => {
  const d = new StallDetector(1_000);
  d.observe({ partitions: [part(0, 10, 5)] }, none, 0);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5)] }, new Map([[0, 'postgres']]), 5_000), []);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5)] }, new Map([[0, 'paused']]), 9_000), []);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5)] }, none, 9_999), []);
  assert.equal(d.observe({ partitions: [part(0, 10, 5)] }, none, 10_000).length, 1);
});

test('stall - a partition without an owner for the window counts, lag or not; a new owner gets the whole window', () => {
  const d = new StallDetector(1_000);
  d.observe({ partitions: [part(0, 10, 0, null)] }, none, 0);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 0, null)] }, new Map([[0, 'paused']]), 1_000), [{ partition: 0, why: 'no-owner', lag: 0, forMs: 1_000 }]);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 4)] }, none, 1_200), []);
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 4, { process: 'http://b:2', workerId: 1 })] }, none, 2_100), []);
  assert.equal(d.observe({ partitions: [part(0, 10, 4, { process: 'http://b:2', workerId: 1 })] }, none, 3_100)[0]?.why, 'no-progress');
});

test('stall - after a time nothing could be seen, the window starts again', () => {
  const d = new StallDetector(1_000);
  d.observe({ partitions: [part(0, 10, 5)] }, none, 0);
  d.forget();
  assert.deepEqual(d.observe({ partitions: [part(0, 10, 5)] }, none, 60_000), []);
  assert.equal(d.observe({ partitions: [part(0, 10, 5)] }, none, 61_000).length, 1);
});
