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

test('ActorRegistry - over maxDedupEntries the least recently used actors go, never one with pending events, and a resend is still caught', () => {
  const r = new ActorRegistry<number>({ ...options, maxDedupEntries: 50, coldDedupEntries: 1_000 });
  // u0 is the oldest and still has pending events; u1…u9 are flushed.
  for (let i = 0; i < 10; i++) r.offer('u0', ev(`p${i}`, 'u0'), i, 10);
  const pendingOfU0 = r.drain().filter((p) => p.key === 'u0');
  for (let k = 1; k < 10; k++) for (let i = 0; i < 10; i++) r.offer(`u${k}`, ev(`k${k}-${i}`, `u${k}`), i, 20 + k);
  r.drain();
  r.offer('u0', ev('late', 'u0'), 0, 40); // u0 pending again, and now the most recent
  assert.equal(r.dedupEntries, 101);
  const dropped = r.passivate(50);
  assert.ok(r.dedupEntries <= 50, `${r.dedupEntries} dedup entries left`);
  assert.equal(dropped, 6); // u1…u6: 101 - 60 = 41 ≤ 50
  assert.ok(r.snapshot('u0') !== undefined, 'the actor with a pending event stays');
  assert.equal(r.snapshot('u1'), undefined);
  assert.equal(r.passivatedDedupEntries, 60);
  // A resend to a passivated key is recognised by the worker-wide store.
  assert.equal(r.offer('u1', ev('k1-3', 'u1'), 0, 60), 'duplicate');
  assert.equal(pendingOfU0.length, 10);
  // Even far over the limit, an actor with a pending event is never dropped.
  const tight = new ActorRegistry<number>({ ...options, maxDedupEntries: 5 });
  for (let i = 0; i < 10; i++) tight.offer('p', ev(`q${i}`, 'p'), i, 10);
  assert.equal(tight.passivate(20), 0);
  assert.equal(tight.pendingCount, 10);
  assert.ok(tight.snapshot('p') !== undefined);
});

test('ActorRegistry - without maxDedupEntries, entries alone never passivate an actor', () => {
  const r = new ActorRegistry<number>(options);
  for (let k = 0; k < 10; k++) for (let i = 0; i < 10; i++) r.offer(`u${k}`, ev(`k${k}-${i}`, `u${k}`), i, 20);
  r.drain();
  assert.equal(r.passivate(30), 0);
  assert.equal(r.dedupEntries, 100);
});
