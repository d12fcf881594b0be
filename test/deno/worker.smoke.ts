// Deno only (`npm run test:deno`): the actor host runs as a Deno Web Worker and answers
// comlink calls. Node's runner never picks this file up (it is not *.test.ts), because Node
// has no Web Workers; the Node runtime hosts actors on worker_threads (runtime/worker/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseProxy, wrap, type Endpoint } from 'comlink';
import type { HostWorkerApi } from '../../actors/host/index.ts';

/** The slice of the Web Worker API this test uses, typed here because Node's types lack it. */
type WebWorker = Endpoint & { terminate(): void };
type WebWorkerConstructor = new (url: URL, options: { readonly type: 'module'; readonly name?: string }) => WebWorker;

const { Worker } = globalThis as unknown as { Worker?: WebWorkerConstructor };
const options = { dedupWindowEntries: 100, dedupWindowMs: 60_000, actorIdleMs: 60_000, maxActors: 1_000 };
const event = (id: string, userId: string) => ({ id, type: 'ad.click', source: 'tiktok', occurredAt: '2026-11-20T12:00:00Z', userId });

// A worker that never answers would leave the calls pending forever: the timeout turns that
// into a failure (generous, because Deno type-checks the worker module when it starts).
test('host worker - a Deno Web Worker answers offers, drains and snapshots over comlink', { timeout: 30_000 }, async () => {
  assert.ok(Worker !== undefined, 'this test needs Web Workers: run it with `npm run test:deno`');
  const worker = new Worker(new URL('../../actors/host/worker.ts', import.meta.url), { type: 'module', name: 'actor-host' });
  const api = wrap<HostWorkerApi>(worker);
  try {
    const host = await api.open(options);
    try {
      assert.equal(await host.offer('u1', event('e1', 'u1')), 'accepted');
      assert.equal(await host.offer('u1', event('e1', 'u1')), 'duplicate');
      assert.equal(await host.offer('u2', event('e2', 'u2')), 'accepted');
      assert.equal(await host.offer('u1', event('e3', 'u1')), 'accepted');
      const invalid = await host.offer('u3', { id: 'e4', type: 'ad.click', occurredAt: 'yesterday' });
      assert.ok(typeof invalid === 'object', 'an invalid event is answered, not thrown');
      assert.deepEqual(invalid.rejected.map((e) => e.path).sort(), ['occurredAt', 'source']);

      const before = await host.stats();
      assert.deepEqual({ ...before, oldestPendingAt: typeof before.oldestPendingAt }, { liveActors: 2, pendingEvents: 3, oldestPendingAt: 'string', rejected: 1 });
      const drained = await host.drain();
      // Order is promised per key (arrival order), not across keys.
      const idsOf = (key: string) => drained.filter((d) => d.key === key).map((d) => d.event.id);
      assert.deepEqual([idsOf('u1'), idsOf('u2'), drained.length], [['e1', 'e3'], ['e2'], 3]);
      assert.equal(drained[0]?.event.occurredAt, Date.parse('2026-11-20T12:00:00Z'), 'events cross the worker normalized');
      await host.markFlushed(drained);

      const u1 = await host.snapshot('u1');
      assert.deepEqual(u1 && { pendingEvents: u1.pendingEvents, dedupWindowSize: u1.dedupWindowSize, counts: u1.counts }, {
        pendingEvents: 0,
        dedupWindowSize: 2,
        counts: { received: 3, duplicates: 1, flushed: 2 },
      });
      assert.equal(await host.snapshot('u3'), undefined, 'a rejected event creates no actor');
      const stats = await host.stats();
      assert.equal(stats.pendingEvents, 0);
      assert.equal(stats.oldestPendingAt, null);
    } finally {
      host[releaseProxy]();
    }
  } finally {
    api[releaseProxy]();
    worker.terminate();
  }
});
