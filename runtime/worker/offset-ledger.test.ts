import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OffsetLedger, type OffsetCommit } from './offset-ledger.ts';

/** The commits `send` was given, in order. */
function recorder(): { sent: OffsetCommit[][]; send: (o: readonly OffsetCommit[]) => Promise<void> } {
  const sent: OffsetCommit[][] = [];
  return { sent, send: async (o) => void sent.push([...o]) };
}

test('offset ledger - commits the last consumed offset + 1 of each partition taken', async () => {
  const l = new OffsetLedger();
  l.assign([1, 0]);
  assert.deepEqual(l.partitions, [0, 1]);
  l.consumed(0, '4');
  l.consumed(0, '9');
  l.consumed(1, '18446744073709551614'); // beyond Number's precision
  const { sent, send } = recorder();
  const outcome = await l.commit(l.take(), send);
  assert.deepEqual(sent, [[{ partition: 0, offset: '10' }, { partition: 1, offset: '18446744073709551615' }]]);
  assert.deepEqual(outcome, { kind: 'committed', offsets: sent[0] });
  assert.equal(l.committed(0), '9');
});

test('offset ledger - the take step is a snapshot: what is consumed after it waits for the next flush', async () => {
  const l = new OffsetLedger();
  l.assign([0]);
  l.consumed(0, '3');
  const taken = l.take();
  l.consumed(0, '7');
  const { sent, send } = recorder();
  await l.commit(taken, send);
  assert.deepEqual(sent, [[{ partition: 0, offset: '4' }]]);
  assert.equal(l.hasUncommitted(l.take()), true);
  await l.commit(l.take(), send);
  assert.deepEqual(sent[1], [{ partition: 0, offset: '8' }]);
});

test('offset ledger - the generation fence: offsets taken before a rebalance are never committed', async () => {
  const l = new OffsetLedger();
  l.assign([0, 1]);
  assert.equal(l.generation, 1);
  l.consumed(0, '5');
  const taken = l.take();
  l.assign([0, 1]); // the same partitions, but the group rebalanced after the take step
  const { sent, send } = recorder();
  assert.deepEqual(await l.commit(taken, send), { kind: 'fenced', flushGeneration: 1, current: 2 });
  assert.deepEqual(sent, []);
  assert.equal(l.committed(0), undefined);
  // A flush of the new generation commits them.
  assert.equal((await l.commit(l.take(), send)).kind, 'committed');
  assert.deepEqual(sent, [[{ partition: 0, offset: '6' }]]);
});

test('offset ledger - a revoked partition is dropped at the assignment and never committed', async () => {
  const l = new OffsetLedger();
  l.assign([0, 1, 2]);
  l.consumed(0, '1');
  l.consumed(2, '2');
  l.assign([0, 1]);
  const taken = l.take();
  assert.deepEqual([...taken.offsets], [[0, '1']]);
  const { sent, send } = recorder();
  await l.commit(taken, send);
  assert.deepEqual(sent, [[{ partition: 0, offset: '2' }]]);
});

test('offset ledger - only partitions still assigned are committed, and an offset committed already is not sent again', async () => {
  const l = new OffsetLedger();
  l.assign([0, 1]);
  l.consumed(0, '1');
  l.consumed(1, '1');
  const { sent, send } = recorder();
  await l.commit(l.take(), send);
  assert.equal(l.hasUncommitted(l.take()), false);
  assert.deepEqual(await l.commit(l.take(), send), { kind: 'unchanged' });
  l.consumed(1, '2');
  assert.equal(l.hasUncommitted(l.take()), true);
  await l.commit(l.take(), send);
  assert.deepEqual(sent, [[{ partition: 0, offset: '2' }, { partition: 1, offset: '2' }], [{ partition: 1, offset: '3' }]]);
});

test('offset ledger - a failed commit records nothing, so the next flush sends it again', async () => {
  const l = new OffsetLedger();
  l.assign([0]);
  l.consumed(0, '41');
  await assert.rejects(l.commit(l.take(), async () => {
    throw new Error('coordinator not available');
  }), /coordinator not available/);
  assert.equal(l.committed(0), undefined);
  assert.equal(l.hasUncommitted(l.take()), true);
  const { sent, send } = recorder();
  await l.commit(l.take(), send);
  assert.deepEqual(sent, [[{ partition: 0, offset: '42' }]]);
});

test('offset ledger - nothing consumed: nothing uncommitted, nothing sent', async () => {
  const l = new OffsetLedger();
  l.assign([0]);
  assert.equal(l.hasUncommitted(l.take()), false);
  const { sent, send } = recorder();
  assert.deepEqual(await l.commit(l.take(), send), { kind: 'unchanged' });
  assert.deepEqual(sent, []);
});
