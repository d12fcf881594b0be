import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createActorHost } from './index.ts';

const options = { dedupWindowEntries: 100, dedupWindowMs: 10_000, actorIdleMs: 1_000, maxActors: 1_000 };
const ev = (id: string, userId: string, occurredAt: string | number = '2026-11-20T12:00:00Z') => ({ id, type: 'ad.click', source: 'tiktok', occurredAt, userId });

/** A host on a clock the test moves by hand. */
function hostAt(start = 0) {
  const clock = { ms: start };
  return { clock, host: createActorHost({ ...options, now: () => clock.ms }) };
}

test('actor host - an event resent in another spelling of its instant is a duplicate', () => {
  const { host } = hostAt();
  assert.equal(host.offer('u1', ev('e1', 'u1')), 'accepted');
  assert.equal(host.offer('u1', ev('e1', 'u1', Date.parse('2026-11-20T12:00:00Z'))), 'duplicate');
  assert.deepEqual(host.snapshot('u1')?.counts, { received: 2, duplicates: 1, flushed: 0 });
});

test('actor host - an invalid event is answered with its field errors and reaches no actor', () => {
  const { host } = hostAt();
  const outcome = host.offer('u1', { id: 'e1', type: 't', occurredAt: 'yesterday' });
  assert.ok(typeof outcome === 'object');
  assert.deepEqual(outcome.rejected.map((e) => e.path).sort(), ['occurredAt', 'source']);
  assert.equal(host.snapshot('u1'), undefined);
  assert.deepEqual(host.stats(), { liveActors: 0, pendingEvents: 0, oldestPendingAt: null, rejected: 1 });
});

test('actor host - drain hands over normalized events per key in arrival order, and flushes are credited', () => {
  const { clock, host } = hostAt(5_000);
  host.offer('u1', ev('a', 'u1'));
  clock.ms += 10;
  host.offer('u2', ev('b', 'u2'));
  host.offer('u1', ev('c', 'u1'));
  assert.deepEqual(host.stats(), { liveActors: 2, pendingEvents: 3, oldestPendingAt: new Date(5_000).toISOString(), rejected: 0 });
  const drained = host.drain();
  assert.deepEqual(drained.filter((d) => d.key === 'u1').map((d) => d.event.id), ['a', 'c']);
  assert.equal(drained[0]?.event.occurredAt, Date.parse('2026-11-20T12:00:00Z'));
  assert.equal(host.stats().pendingEvents, 0);
  host.markFlushed(drained);
  assert.equal(host.snapshot('u1')?.counts.flushed, 2);
  assert.equal(host.snapshot('u2')?.counts.flushed, 1);
});

test('actor host - a drain passivates actors that are idle and past their dedup window', () => {
  const { clock, host } = hostAt();
  host.offer('u1', ev('a', 'u1'));
  host.drain();
  assert.equal(host.stats().liveActors, 1); // its dedup entry is still live
  clock.ms = options.dedupWindowMs + 1;
  assert.deepEqual(host.drain(), []);
  assert.equal(host.stats().liveActors, 0);
  assert.equal(host.snapshot('u1'), undefined);
});
