import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActorRegistry, DedupWindow } from './index.ts';
import type { KeyflowEvent } from '../event/index.ts';

const ev = (id: string, userId: string, occurredAt = 1000): KeyflowEvent => ({ id, type: 't', source: 's', occurredAt, userId });
const options = { dedupWindowEntries: 100, dedupWindowMs: 10_000, actorIdleMs: 1_000, maxActors: 1_000 };

test('DedupWindow - remembers at most its capacity, oldest forgotten first', () => {
  const w = new DedupWindow(2, 1_000);
  assert.equal(w.add('a', 0), true);
  assert.equal(w.add('b', 0), true);
  assert.equal(w.add('a', 1), false);
  assert.equal(w.add('c', 2), true); // evicts a
  assert.equal(w.size, 2);
  assert.equal(w.add('a', 3), true);
});

test('DedupWindow - an identity is forgotten once its time is up', () => {
  const w = new DedupWindow(10, 100);
  w.add('a', 0);
  assert.equal(w.add('a', 99), false);
  assert.equal(w.add('a', 100), true);
});

test('ActorRegistry - a resent event inside the window is a duplicate and not pending twice', () => {
  const r = new ActorRegistry<number>(options);
  assert.equal(r.offer('u1', ev('e1', 'u1'), 0, 0), 'accepted');
  assert.equal(r.offer('u1', ev('e1', 'u1'), 1, 5), 'duplicate');
  assert.equal(r.offer('u1', ev('e1', 'u1', 2000), 2, 5), 'accepted'); // same id, other instant: another event
  assert.equal(r.pendingCount, 2);
  const s = r.snapshot('u1');
  assert.deepEqual(s?.counts, { received: 3, duplicates: 1, flushed: 0 });
});

test('ActorRegistry - drain hands over every pending event in arrival order per key', () => {
  const r = new ActorRegistry<number>(options);
  for (let i = 0; i < 5; i++) r.offer(`u${i % 2}`, ev(`e${i}`, `u${i % 2}`), i, i);
  assert.equal(r.oldestPendingAt, 0);
  const out = r.drain();
  assert.equal(out.length, 5);
  assert.deepEqual(out.filter((p) => p.key === 'u0').map((p) => p.meta), [0, 2, 4]);
  assert.equal(r.pendingCount, 0);
  assert.equal(r.oldestPendingAt, undefined);
  r.markFlushed(out);
  assert.equal(r.snapshot('u0')?.counts.flushed, 3);
});

test('ActorRegistry - an idle actor is passivated once nothing is pending, and still recognises a resend inside its window', () => {
  const r = new ActorRegistry<number>(options);
  r.offer('a', ev('e1', 'a'), 0, 0);
  r.offer('b', ev('e2', 'b'), 0, 0);
  assert.equal(r.passivate(5_000), 0); // both pending: never dropped
  r.drain();
  assert.equal(r.passivate(5_000), 2); // idle, nothing pending: both go
  assert.equal(r.size, 0);
  assert.equal(r.snapshot('a'), undefined);
  assert.equal(r.passivatedDedupEntries, 2);
  assert.equal(r.offer('a', ev('e1', 'a'), 0, 6_000), 'duplicate'); // inside the 10 s window
  assert.equal(r.snapshot('a')?.counts.duplicates, 1);
  assert.equal(r.offer('b', ev('e2', 'b'), 0, 10_001), 'accepted'); // the window is over
  r.passivate(20_000);
  assert.equal(r.passivatedDedupEntries, 0); // expired entries are swept
});

test('ActorRegistry - above maxActors the least recently used actors without pending events go first', () => {
  const r = new ActorRegistry<number>({ ...options, maxActors: 2 });
  r.offer('a', ev('e1', 'a'), 0, 0);
  r.offer('b', ev('e2', 'b'), 0, 1);
  r.drain();
  r.offer('c', ev('e3', 'c'), 0, 2); // pending: must stay
  r.offer('a', ev('e4', 'a'), 0, 3); // touched: now most recent, pending
  assert.equal(r.passivate(4), 1);
  assert.equal(r.snapshot('b'), undefined);
  assert.equal(r.offer('b', ev('e2', 'b'), 0, 5), 'duplicate'); // b's entry survived its passivation
  assert.ok(r.snapshot('a') && r.snapshot('c'));
  assert.equal(r.pendingCount, 2);
});

test('ActorRegistry - forget drops the live actor and its passivated dedup entries, so a resend is new data', () => {
  const r = new ActorRegistry<number>(options);
  r.offer('a', ev('e1', 'a'), 0, 0);
  r.offer('b', ev('e2', 'b'), 0, 0);
  r.drain();
  r.passivate(5_000); // both passivated: their entries sit in the worker-wide store
  r.offer('a', ev('e3', 'a'), 0, 5_001); // a is live again, with e3 in its own window
  r.drain();
  r.forget('a', ['1000\u0000e1', '1000\u0000e3']);
  assert.equal(r.snapshot('a'), undefined);
  assert.equal(r.offer('a', ev('e1', 'a'), 0, 5_002), 'accepted');
  assert.equal(r.offer('a', ev('e3', 'a'), 0, 5_002), 'accepted');
  assert.equal(r.offer('b', ev('e2', 'b'), 0, 5_002), 'duplicate'); // another key's entries stay
  assert.throws(() => r.forget('a', []), /pending/);
});
