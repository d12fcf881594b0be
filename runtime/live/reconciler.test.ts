// The reconciler against the real PostgreSQL and Redis: it repairs what the writer could
// not guarantee, rebuilds the active-users set only when Redis says it may be wrong, and an
// erased user leaves the live view.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { partitionKeyOf, type KeyflowEvent } from '../../actors/index.ts';
import { flushBatch, reportEvents } from '../../db/index.ts';
import type { TestDatabase } from '../../db/testing.ts';
import { closeStoreAndRedis, openStoreAndRedis } from '../../test/support/store.ts';
import { createLogger } from '../log/index.ts';
import { LiveWriter } from '../worker/index.ts';
import { forgetLiveUser, LiveReconciler, liveKeys, minuteOf, readSummary } from './index.ts';
import { secondOf } from './keys.ts';

let db: TestDatabase;
let redis: Redis;
const prefix = `kft:rec:${randomBytes(4).toString('hex')}:`;
const k = liveKeys(prefix);
const now = Date.now();
const minute = now - (now % 60_000);

before(async () => {
  ({ db, redis } = await openStoreAndRedis(new Date(now)));
});
after(() => closeStoreAndRedis(db, redis, prefix));

const reconciler = () => new LiveReconciler({ sql: db.sql, redis, prefix, intervalMs: 1_000, log: createLogger('silent') });
const ev = (id: string, userId: string, ageMs: number, type = 't.a'): KeyflowEvent => ({ id, type, source: 's', occurredAt: now - ageMs, userId });
const store = (events: KeyflowEvent[]) => flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });

async function flushThrough(writer: LiveWriter, events: KeyflowEvent[]): Promise<void> {
  const token = await writer.begin();
  const { inserted } = await store(events);
  await writer.commit(token, inserted.map((event, i) => ({ event, partition: 0, offset: String(i) })));
}

test('reconciler - a first round builds the active set; a healthy view then needs no rebuild and no correction', async () => {
  const writer = new LiveWriter(redis, prefix);
  await flushThrough(writer, [ev('a1', 'u1', 90_000), ev('a2', 'u2', 150_000, 't.b'), ev('a3', 'u1', 30_000)]);
  const first = await reconciler().reconcile({ force: true });
  assert.equal(first.rebuilt, 'missing', 'nothing marks the set as built yet');
  const second = await reconciler().reconcile({ force: true });
  assert.deepEqual(second, { ran: true, minutesCorrected: 0 });
  const s = await readSummary(redis, prefix, now);
  assert.equal(s.activeUsers['5m'], 2);
  assert.equal(s.eventsLastMinute, (await db.sql<[{ n: number }]>`select count(*)::int as n from events where occurred_at >= ${new Date(minute - 60_000)} and occurred_at < ${new Date(minute)}`)[0].n);
  writer.close();
});

test('reconciler - a flush whose writer died before its live update is repaired: counts and active users', async () => {
  const dead = new LiveWriter(redis, prefix);
  const token = await dead.begin();
  assert.ok(token !== undefined);
  await store([ev('b1', 'u-dead', 120_000, 't.c')]); // committed, and then the process "dies"
  await redis.del(k.alive(token.slice(0, token.indexOf('/'))));
  const r = await reconciler().reconcile({ force: true });
  assert.equal(r.rebuilt, 'inflight');
  assert.ok(r.minutesCorrected >= 1);
  assert.notEqual(await redis.zscore(k.active, 'u-dead'), null);
  assert.equal(await redis.zcard(k.inflight), 0, 'the lost token is cleared');
  assert.equal(await redis.hget(k.minute(minute - 120_000).types, 't.c'), '1');
});

test('reconciler - an erased user leaves the active set at once and the counters at the next round', async () => {
  await store([ev('c1', 'u-gone', 60_000, 't.gone')]);
  await reconciler().reconcile({ force: true });
  await redis.set(k.rebuild, '1'); // the rebuild must not bring the user back either
  assert.equal(await redis.hget(k.minute(minute - 60_000).types, 't.gone'), '1');
  // What the erasure's transaction does to the store, in short:
  await db.sql`delete from events where user_id = 'u-gone'`;
  await db.sql`delete from rollups_minute where type = 't.gone'`;
  await forgetLiveUser(redis, prefix, 'u-gone');
  assert.equal(await redis.zscore(k.active, 'u-gone'), null);
  const r = await reconciler().reconcile({ force: true });
  assert.equal(r.rebuilt, 'flagged');
  assert.equal(await redis.zscore(k.active, 'u-gone'), null);
  assert.equal(await redis.hget(k.minute(minute - 60_000).types, 't.gone'), null);
  const s = await readSummary(redis, prefix, now);
  assert.ok(!s.topTypes.some((t) => t.type === 't.gone'));
});

test('reconciler - only one process reconciles a round (the lock)', async () => {
  const [a, b] = await Promise.all([reconciler().reconcile(), reconciler().reconcile()]);
  assert.deepEqual([a.ran, b.ran].sort(), [false, true]);
});

test('reconciler - nothing ahead of the clock is live: an event flushed ahead waits, counts once its time has come, and an erasure forgets it', async () => {
  const writer = new LiveWriter(redis, prefix);
  const hour = 3_600_000;
  // Flushed now: u-ahead only an hour ahead, u-both now and an hour ahead.
  await flushThrough(writer, [ev('f1', 'u-ahead', -hour), ev('f2', 'u-both', 20_000), ev('f3', 'u-both', -hour), ev('f4', 'u-ahead-gone', -hour)]);
  const at = Date.now();
  const before = await readSummary(redis, prefix, at);
  assert.equal(await redis.zcount(k.active, `(${at}`, '+inf'), 0, 'nothing ahead of the clock in the set');
  assert.equal(await redis.zscore(k.active, 'u-ahead'), null, 'not active before its time');
  assert.equal(Number(await redis.zscore(k.active, 'u-both')), now - 20_000, 'counted by its present event');
  await forgetLiveUser(redis, prefix, 'u-ahead-gone');
  assert.deepEqual((await redis.zrange(k.ahead, 0, -1)).map((m) => m.slice(m.indexOf(':') + 1)).sort(), ['u-ahead', 'u-both']);
  // An hour and a minute later, one round moves both into the active set.
  const later = now + hour + 60_000;
  await new LiveReconciler({ sql: db.sql, redis, prefix, intervalMs: 1_000, log: createLogger('silent'), now: () => later }).reconcile({ force: true });
  assert.equal(await redis.zcard(k.ahead), 0);
  assert.equal(Number(await redis.zscore(k.active, 'u-ahead')), now + hour);
  assert.equal(Number(await redis.zscore(k.active, 'u-both')), now + hour);
  assert.equal(await redis.zscore(k.active, 'u-ahead-gone'), null, 'erased while it waited');
  const s = await readSummary(redis, prefix, later);
  assert.equal(s.activeUsers['5m'], 2);
  assert.ok(before.activeUsers['5m'] >= 1);
  writer.close();
});

test('reconciler - what an earlier version put in the live view beyond now + KEYFLOW_MAX_FUTURE is dropped and rebuilt from the store, which keeps the event', async () => {
  const year9999 = Date.parse('9999-12-31T00:00:00Z');
  // The store of an earlier version: a present event of u-old, and one dated 9999 it accepted.
  await store([ev('g1', 'u-old', 45_000), { id: 'g-far', type: 't.far', source: 's', occurredAt: year9999, userId: 'u-old' }, { id: 'g-far2', type: 't.far', source: 's', occurredAt: year9999, userId: 'u-far-only' }]);
  await redis.zadd(k.active, year9999, 'u-old', year9999, 'u-far-only');
  const r = await reconciler().reconcile({ force: true });
  assert.equal(r.rebuilt, 'ahead');
  assert.equal(Number(await redis.zscore(k.active, 'u-old')), now - 45_000, 'its real newest event, not 9999');
  assert.equal(await redis.zscore(k.active, 'u-far-only'), null, 'active forever no more');
  assert.equal(await redis.zcount(k.active, `(${Date.now() + 86_400_000}`, '+inf'), 0);
  assert.equal(await redis.zcount(k.ahead, `(${Date.now() + 86_400_000}`, '+inf'), 0);
  const [kept] = await db.sql<[{ n: number }]>`select count(*)::int as n from events where occurred_at = ${new Date(year9999)}`;
  assert.equal(kept.n, 2, 'the store keeps them');
  const all = await reportEvents(db.sql, { from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T23:59:59.999Z'), groupBy: ['type'] });
  assert.equal(all.groups.find((g) => g.type === 't.far')?.count, 2, 'and reports count them exactly');
  const s = await readSummary(redis, prefix, now);
  assert.ok(s.activeUsers['1m'] >= 1, 'u-old counts by its event 45 s ago');
});

/**
 * A time at least 3 s clear of a minute's edge (waiting for the next minute when it is not), so
 * "now − 1 s" lies in the open minute and "now + 1 s" reads it: the open-minute tests would
 * otherwise test the closed-minute check on the few runs that start at a minute's first second.
 */
async function clearOfMinuteEdge(): Promise<number> {
  const into = Date.now() % 60_000;
  if (into < 3_000) await new Promise((r) => setTimeout(r, 3_000 - into));
  else if (into > 57_000) await new Promise((r) => setTimeout(r, 63_000 - into));
  return Date.now();
}
const typeCount = async (at: number, type: string) => (await readSummary(redis, prefix, at)).topTypes.find((t) => t.type === type)?.events ?? 0;

test('summary - an event counts as soon as its flush updated Redis: the current minute, events/s over the last 10 s, nothing after at', async () => {
  const writer = new LiveWriter(redis, prefix);
  const t0 = Date.now();
  const live = (id: string, ms: number, userId: string): KeyflowEvent => ({ id, type: 't.now', source: 's', occurredAt: ms, userId });
  await flushThrough(writer, [live('n1', t0 - 1_500, 'u-now'), live('n2', t0 - 1_500, 'u-now'), live('n3', t0 + 20_000, 'u-later')]);
  const s = await readSummary(redis, prefix, t0);
  assert.equal(Date.parse(s.at), t0 - (t0 % 1_000) - 1, 'taken at the end of the last whole second');
  assert.equal(await typeCount(t0, 't.now'), 2, 'no reconcile round needed, and the event ahead is not counted');
  assert.equal(s.eventsPerSecond, 0.2, 'two events in the last 10 s');
  const [{ n }] = await db.sql<[{ n: number }]>`select count(*)::int as n from events where occurred_at > ${new Date(Date.parse(s.at) - 10_000)} and occurred_at <= ${new Date(s.at)}`;
  assert.equal(n, 2, 'the store agrees');
  const later = t0 + 25_000;
  assert.equal(await typeCount(later, 't.now'), 3, 'the event ahead counts once its time has come');
  assert.equal((await readSummary(redis, prefix, later)).eventsPerSecond, 0.1);
  writer.close();
});

test('reconciler - lost per-second counters are rebuilt from the store: a closed minute by its check, the open one when Redis may have lost it', async () => {
  const writer = new LiveWriter(redis, prefix);
  const t0 = await clearOfMinuteEdge();
  const closed = minuteOf(t0) - 30_000;
  await flushThrough(writer, [{ id: 'p1', type: 't.closed', source: 's', occurredAt: closed, userId: 'u-p' }, { id: 'p2', type: 't.open', source: 's', occurredAt: t0 - 1_000, userId: 'u-p' }]);
  const closedSecond = k.second(secondOf(closed));
  assert.equal(await redis.hget(closedSecond.types, 't.closed'), '1');
  assert.equal(await typeCount(t0, 't.open'), 1);
  const open = t0 - 1_000;
  await redis.del(closedSecond.total, closedSecond.types, k.second(secondOf(open)).total, k.second(secondOf(open)).types, k.activeBuilt);
  assert.equal(await typeCount(t0, 't.open'), 0, 'the view is broken first');
  const r = await reconciler().reconcile({ force: true });
  assert.equal(r.rebuilt, 'missing');
  assert.ok((r.secondsCorrected ?? 0) >= 1, JSON.stringify(r));
  assert.equal(r.openMinuteRebuilt, true, JSON.stringify(r));
  assert.equal(await redis.hget(closedSecond.types, 't.closed'), '1');
  assert.equal(await redis.get(closedSecond.total), '1');
  assert.equal(await typeCount(t0, 't.open'), 1);
  assert.equal(await redis.get(k.secondsPending), null, 'nothing left pending');
  writer.close();
});

test('reconciler - the open minute waits for no flush in flight before its rebuild, and an erased user leaves its counts', async () => {
  const writer = new LiveWriter(redis, prefix);
  const t0 = await clearOfMinuteEdge();
  await flushThrough(writer, [{ id: 'q1', type: 't.erase-now', source: 's', occurredAt: t0 - 500, userId: 'u-erase-now' }]);
  assert.equal(await typeCount(t0 + 1_000, 't.erase-now'), 1);
  await db.sql`delete from events where user_id = 'u-erase-now'`;
  await db.sql`delete from rollups_minute where type = 't.erase-now'`;
  await forgetLiveUser(redis, prefix, 'u-erase-now');
  const busy = await writer.begin(); // a flush in flight: its store read might count what its update adds again
  const waiting = await reconciler().reconcile({ force: true });
  assert.equal(waiting.openMinuteRebuilt, undefined, 'not while a flush is in flight');
  await writer.commit(busy, []);
  await reconciler().reconcile({ force: true });
  assert.equal(await typeCount(t0 + 1_000, 't.erase-now'), 0);
  assert.equal(await redis.zscore(k.active, 'u-erase-now'), null);
  writer.close();
});
