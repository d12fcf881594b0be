// The flush path through the real PostgreSQL and Redis (no Kafka: the offset commit is
// keyflow's own seam, a function that records what it was given and what the store held then).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { ActorRegistry, type KeyflowEvent } from '../../actors/index.ts';
import type { TestDatabase } from '../../db/testing.ts';
import { createMetrics } from '../../otel/index.ts';
import { serviceUrls } from '../../test/support/services.ts';
import { closeStoreAndRedis, openStoreAndRedis } from '../../test/support/store.ts';
import { createLogger } from '../log/index.ts';
import { FlushSteps, type Stored } from './flush-steps.ts';
import { Flusher } from './flusher.ts';
import { LiveWriter } from './live-counters.ts';
import { OffsetLedger, type OffsetCommit } from './offset-ledger.ts';
import type { Meta } from './store-batch.ts';
import type { Pending } from '../../actors/index.ts';

let db: TestDatabase;
let redis: Redis;
const prefix = `kft:flush:${randomBytes(4).toString('hex')}:`;

before(async () => {
  ({ db, redis } = await openStoreAndRedis(new Date()));
});
after(() => closeStoreAndRedis(db, redis, prefix));

const OCCURRED_AT = Date.now() - 60_000;

/** A worker's flush path: registry → flusher → flush steps, committing offsets through `commitOffsets`. */
function flushPath(commitOffsets: (o: readonly OffsetCommit[]) => Promise<void>, wrapStore?: (store: () => Promise<Stored>) => Promise<Stored>) {
  const { metrics } = createMetrics();
  const registry = new ActorRegistry<Meta>({ dedupWindowEntries: 1_000, dedupWindowMs: 60_000, actorIdleMs: 60_000, maxActors: 1_000 });
  const ledger = new OffsetLedger();
  ledger.assign([0]);
  const steps = new FlushSteps({
    workerId: 0,
    config: { topic: 'keyflow.events', groupId: 'g', redisPrefix: prefix, databaseUrl: db.url, redisUrl: serviceUrls().redisUrl, flushMaxBytes: 8 * 1024 * 1024 },
    sql: db.sql,
    log: createLogger('silent'),
    metrics,
    live: new LiveWriter(redis, prefix),
    registry,
    ledger,
    commitOffsets,
  });
  const flusher = new Flusher<Pending<Meta>, Stored>({
    events: registry,
    ledger,
    intervalMs: 1_000,
    maxEvents: 1_000,
    deadLetterMaxBytes: 65_536,
    store: (b) => (wrapStore === undefined ? steps.store(b) : wrapStore(() => steps.store(b))),
    settle: (b, s) => steps.settle(b, s),
    onRetry: (e, r) => steps.failed(e, r),
  });
  const offer = (id: string, offset: number): void => {
    const now = Date.now();
    // One occurredAt for every event: the same id offered twice is then the same event.
    const event = { id, type: 'ad.view', source: 's', occurredAt: OCCURRED_AT, userId: `u-${id}` } as KeyflowEvent;
    registry.offer(event.userId!, event, { partition: 0, offset: String(offset), span: undefined, receivedAtMs: now, bytes: 100 }, now);
    flusher.consumed(0, String(offset));
  };
  return { flusher, ledger, steps, offer, metrics };
}

const storedIds = async (): Promise<string[]> => (await db.sql<{ id: string }[]>`select id from events order by id`).map((r) => r.id);

test('flush steps - the rows are committed before the offsets (+1), and the live view counts what was inserted', async () => {
  const seen: { offsets: readonly OffsetCommit[]; rowsThen: string[] }[] = [];
  const path = flushPath(async (offsets) => void seen.push({ offsets, rowsThen: await storedIds() }));
  path.offer('a1', 10);
  path.offer('a2', 11);
  path.offer('a1', 12); // a duplicate: deduplicated in memory, its offset still counts
  await path.flusher.flush();
  assert.deepEqual(seen, [{ offsets: [{ partition: 0, offset: '13' }], rowsThen: ['a1', 'a2'] }]);
  assert.equal(path.ledger.committed(0), '12');
  assert.ok(path.steps.lastFlushAt !== null);
  const counts = await redis.keys(`${prefix}*`);
  assert.ok(counts.length > 0, 'the live view was written');
});

test('flush steps - a rebalance during the store: the rows stay, the offsets are fenced, the next generation commits them', async () => {
  const seen: (readonly OffsetCommit[])[] = [];
  let rebalance = true;
  const path = flushPath(async (offsets) => void seen.push(offsets), async (store) => {
    const stored = await store();
    if (rebalance) path.ledger.assign([0]); // the group moved on while the transaction ran
    rebalance = false;
    return stored;
  });
  path.offer('b1', 20);
  await path.flusher.flush();
  assert.ok((await storedIds()).includes('b1'));
  assert.deepEqual(seen, [], 'fenced');
  assert.equal((await path.metrics.offsetCommitsFenced.get()).values[0]?.value, 1);
  await path.flusher.flush(); // the offset is still uncommitted: a flush of the new generation commits it
  assert.deepEqual(seen, [[{ partition: 0, offset: '21' }]]);
});

test('flush steps - a failed offset commit is counted and leaves the rows; the next flush commits again', async () => {
  let fail = true;
  const seen: (readonly OffsetCommit[])[] = [];
  const path = flushPath(async (offsets) => {
    if (fail) throw new Error('coordinator not available');
    seen.push(offsets);
  });
  path.offer('c1', 30);
  await path.flusher.flush();
  assert.ok((await storedIds()).includes('c1'));
  assert.equal((await path.metrics.offsetCommitFailures.get()).values[0]?.value, 1);
  assert.equal(path.flusher.retryEvents, undefined, 'the rows are stored: nothing is retried');
  fail = false;
  await path.flusher.flush();
  assert.deepEqual(seen, [[{ partition: 0, offset: '31' }]]);
});
