// The flush transaction stores every event once and counts it once, whatever is replayed,
// duplicated or flushed concurrently; it keeps the users dimension; it never hangs.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { identityOf, partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { createHash } from 'node:crypto';
import { compactActivityDays } from './activity-days.ts';
import { boundDeadLetter } from './dead-letter.ts';
import { flushBatch, type DeadLetterRow, type FlushResult } from './flush.ts';
import { ensurePartitions } from './partitions.ts';
import { sampleEvents } from './sample-events.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
  await ensurePartitions(db.sql, { aheadDays: 1, now: new Date('2026-11-20T12:00:00Z') });
});
after(() => db?.drop());
beforeEach(async () => {
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, dead_letters, users`;
});

const flush = (events: readonly KeyflowEvent[], deadLetters: readonly DeadLetterRow[] = []) =>
  flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters });

type Rollup = { bucket: string; source: string; type: string; funnel_stage: string; currency: string; events: number; revenue: string };

async function rollups(): Promise<Rollup[]> {
  const rows = await db.sql<Rollup[]>`
    select to_char(bucket at time zone 'UTC', 'HH24:MI') as bucket, source, type, funnel_stage, currency,
      events::int as events, revenue::text as revenue
    from rollups_minute order by 1, 2, 3, 4, 5`;
  return [...rows];
}

/** The rollups computed in JavaScript from events, for comparison. */
function expectedRollups(events: readonly KeyflowEvent[]): Rollup[] {
  const m = new Map<string, Rollup & { cents: number }>();
  for (const e of events) {
    const bucket = new Date(e.occurredAt).toISOString().slice(11, 16);
    const key = [bucket, e.source, e.type, e.funnelStage ?? '', e.revenue?.currency ?? ''];
    const k = JSON.stringify(key);
    const r = m.get(k) ?? { bucket, source: e.source, type: e.type, funnel_stage: key[3]!, currency: key[4]!, events: 0, revenue: '', cents: 0 };
    r.events += 1;
    r.cents += Math.round((e.revenue?.amount ?? 0) * 100);
    m.set(k, r);
  }
  return [...m.values()]
    .map(({ cents, ...r }) => ({ ...r, revenue: (cents / 100).toFixed(2).replace(/\.?0+$/, '') || '0' }))
    .sort((a, b) => (JSON.stringify(Object.values(a).slice(0, 5)) < JSON.stringify(Object.values(b).slice(0, 5)) ? -1 : 1));
}

/** Revenue as PostgreSQL prints a sum of 2-decimal numerics, normalized the same way. */
function normalize(rows: Rollup[]): Rollup[] {
  return rows.map((r) => ({ ...r, revenue: r.revenue.includes('.') ? r.revenue.replace(/\.?0+$/, '') : r.revenue }));
}

async function eventCount(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from events`;
  return row?.n ?? -1;
}

test('flush - a new batch is stored whole and counted once per minute, source, type, stage and currency', async () => {
  const events = sampleEvents(500, { seed: 11 });
  const r = await flush(events);
  assert.deepEqual(r, { inserted: events, deadLettersInserted: 0 });
  assert.equal(await eventCount(), 500);
  assert.deepEqual(normalize(await rollups()), expectedRollups(events));
});

test('flush - a replayed batch adds nothing to the rollups', async () => {
  const events = sampleEvents(300, { seed: 12 });
  await flush(events);
  const before = await rollups();
  const again = await flush(events);
  assert.deepEqual(again.inserted, []);
  assert.equal(await eventCount(), 300);
  assert.deepEqual(await rollups(), before);
});

test('flush - a batch half new and half replayed adds only the new half', async () => {
  const old = sampleEvents(200, { seed: 13 });
  const fresh = sampleEvents(200, { seed: 14 });
  await flush(old);
  // Interleaved, so the new ones are not simply a suffix.
  const mixed = old.flatMap((e, i) => [e, fresh[i]!]);
  const r = await flush(mixed);
  assert.deepEqual(r.inserted, fresh);
  assert.equal(await eventCount(), 400);
  assert.deepEqual(normalize(await rollups()), expectedRollups([...old, ...fresh]));
});

test('flush - the same event twice in one batch is stored and counted once', async () => {
  const [e] = sampleEvents(1, { seed: 15 });
  assert.ok(e);
  const sameIdOtherTime = { ...e, occurredAt: e.occurredAt + 1 };
  const r = await flush([e, { ...e }, sameIdOtherTime]);
  assert.deepEqual(r.inserted, [e, sameIdOtherTime]);
  assert.equal(await eventCount(), 2);
  assert.equal((await rollups()).reduce((n, x) => n + x.events, 0), 2);
});

test('flush - revenue sums exactly per currency, and events without revenue count under currency ""', async () => {
  const at = Date.UTC(2026, 10, 20, 12, 7, 1);
  const buy = (id: string, amount: number, currency: string): KeyflowEvent =>
    ({ id, type: 'purchase', source: 'web', occurredAt: at, revenue: { amount, currency } });
  await flush([buy('a', 0.1, 'USD'), buy('b', 0.2, 'USD'), buy('c', 19.99, 'EUR'), { id: 'd', type: 'purchase', source: 'web', occurredAt: at }]);
  await flush([buy('e', 1e12, 'USD'), buy('a', 0.1, 'USD')]);
  assert.deepEqual(
    (await rollups()).map((r) => [r.currency, r.events, r.revenue]),
    [['', 1, '0'], ['EUR', 1, '19.99'], ['USD', 3, '1000000000000.3']],
  );
});

test('flush - every field is stored, and occurredAt keeps its milliseconds', async () => {
  const e: KeyflowEvent = {
    id: 'full', type: 'checkout.complete', source: 'facebook', occurredAt: Date.UTC(2026, 10, 20, 12, 0, 0, 123),
    userId: 'u-42', sessionId: 's-1', funnelStage: 'bottom', revenue: { amount: 19.99, currency: 'USD' },
    user: { age: 25, gender: 'female', country: 'US', city: 'New York' }, properties: { page: '/checkout', n: 2, ok: false, none: null },
  };
  await flushBatch(db.sql, { events: [e], partitionKeys: ['pk-1'], deadLetters: [] });
  const [row] = await db.sql`select *, (extract(epoch from occurred_at) * 1000)::int8::text as ms from events`;
  assert.deepEqual({ ...row, received_at: undefined }, {
    id: 'full', occurred_at: new Date(e.occurredAt), type: 'checkout.complete', source: 'facebook', user_id: 'u-42',
    session_id: 's-1', funnel_stage: 'bottom', revenue_amount: '19.99', revenue_currency: 'USD', user_age: 25,
    user_gender: 'female', user_country: 'US', user_city: 'New York', properties: e.properties, partition_key: 'pk-1',
    received_at: undefined, ms: String(e.occurredAt),
  });
});

test('flush - dead letters are stored once even when replayed, bytes intact', async () => {
  const dl = (offset: string): DeadLetterRow => ({
    topic: 'keyflow.events', partition: 3, offset, key: new Uint8Array([0, 255, 7]), raw: new TextEncoder().encode('{"id":'),
    reason: 'not-json', error: 'not JSON: Unexpected end of JSON input',
  });
  const first = await flush([], [dl('41'), dl('9007199254740993')]);
  assert.equal(first.deadLettersInserted, 2);
  const again = await flush(sampleEvents(3, { seed: 16 }), [dl('41'), dl('42')]);
  assert.deepEqual({ dl: again.deadLettersInserted, ev: again.inserted.length }, { dl: 1, ev: 3 });
  const rows = await db.sql`select "offset", message_key, raw, partition from dead_letters order by "offset"::numeric`;
  assert.deepEqual(rows.map((r) => r['offset']), ['41', '42', '9007199254740993']);
  assert.deepEqual([...(rows[0]?.['message_key'] as Buffer)], [0, 255, 7]);
  assert.equal((rows[0]?.['raw'] as Buffer).toString(), '{"id":');
});

test('flush - a dead letter keeps its whole value\'s length and SHA-256, and a range of offsets keeps its last offset', async () => {
  const value = new TextEncoder().encode('x'.repeat(1000));
  const whole: DeadLetterRow = { topic: 't', partition: 0, offset: '7', key: null, raw: value, reason: 'not-json', error: 'e' };
  const range: DeadLetterRow = { ...boundDeadLetter({ ...whole, offset: '100' }, 64), lastOffset: '140', reason: 'undecodable-batch' };
  const tombstone: DeadLetterRow = { ...whole, offset: '8', raw: null, reason: 'empty' };
  assert.equal((await flush([], [whole, range, tombstone])).deadLettersInserted, 3);
  const rows = await db.sql`select "offset"::text as offset, last_offset::text as last, octet_length(raw) as kept, raw_length::int as length, encode(raw_sha256, 'hex') as sha from dead_letters order by dead_letters."offset"`;
  const sha = createHash('sha256').update(value).digest('hex');
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { offset: '7', last: null, kept: 1000, length: 1000, sha },
    { offset: '8', last: null, kept: null, length: null, sha: null },
    { offset: '100', last: '140', kept: 64, length: 1000, sha },
  ]);
});

test('flush - a NUL or an unpaired surrogate in a dead letter error message is stored as U+FFFD, not fatal', async () => {
  const r = await flush([], [{ topic: 't', partition: 0, offset: '1', key: null, raw: null, reason: 'empty', error: 'bad \u0000 byte, key "\ud800" and "\udc00x", pair 🎉' }]);
  assert.equal(r.deadLettersInserted, 1);
  const [row] = await db.sql`select error, raw, message_key from dead_letters`;
  assert.deepEqual({ ...row }, { error: 'bad \ufffd byte, key "\ufffd" and "\ufffdx", pair 🎉', raw: null, message_key: null });
});

test('flush - concurrent flushes of overlapping batches store and count every event once', async () => {
  const events = sampleEvents(2000, { seed: 17, spreadMs: 120_000 });
  const pool = db.connect({ max: 6 });
  // Six workers, each flushing an overlapping, shuffled slice: every event is in ~3 of them.
  const slices = Array.from({ length: 6 }, (_, w) =>
    events.filter((_, i) => (i + w) % 6 < 3).sort((a, b) => identityOf(a).localeCompare(identityOf(b)) * (w % 2 ? 1 : -1)));
  const results = await Promise.all(slices.map((s) => flushBatch(pool, { events: s, partitionKeys: s.map((e) => partitionKeyOf(e)), deadLetters: [] })));
  assert.equal(results.reduce((n, r) => n + r.inserted.length, 0), 2000);
  assert.equal(new Set(results.flatMap((r) => r.inserted.map(identityOf))).size, 2000);
  assert.equal(await eventCount(), 2000);
  assert.deepEqual(normalize(await rollups()), expectedRollups(events));
});

test('flush - every rollup level and the user activity equal a full scan of events, through replays and concurrent overlapping flushes', async () => {
  // Two days of events, so hours and days have several buckets each.
  const events = sampleEvents(3000, { seed: 31, spreadMs: 2 * 86_400_000 - 1 });
  await ensurePartitions(db.sql, { aheadDays: 3, now: new Date('2026-11-20T00:00:00Z') });
  await flush(events.slice(0, 1000));
  await flush(events.slice(500, 2000)); // half replayed
  const pool = db.connect({ max: 4 });
  await Promise.all([0, 1, 2].map((w) => {
    const s = events.filter((_, i) => (i + w) % 3 !== 0);
    return flushBatch(pool, { events: s, partitionKeys: s.map((e) => partitionKeyOf(e)), deadLetters: [] });
  }));
  assert.equal(await eventCount(), 3000);
  assert.deepEqual(await aggregateDrift(db.sql), []);
  // The days were open: their activity is in their hours only, until they are compacted.
  assert.equal((await db.sql`select 1 from activity_sets_day`).length, 0);
  const { compacted } = await compactActivityDays(db.sql, { aheadDays: 0, now: new Date('2026-11-23T00:00:00Z') });
  assert.deepEqual(compacted, ['2026-11-20', '2026-11-21']);
  assert.deepEqual(await aggregateDrift(db.sql), []);
  const [levels] = await db.sql<[{ h: number; d: number; ah: number; ad: number }]>`
    select (select count(*)::int from rollups_hour) as h, (select count(*)::int from rollups_day) as d,
      (select sum(cardinality(users))::int from activity_sets_hour) as ah, (select sum(cardinality(users))::int from activity_sets_day) as ad`;
  // The check above could pass on empty tables only if events were empty too: they are not.
  assert.ok(levels.h > 0 && levels.d > 0 && levels.ah > 0 && levels.ad > 0);
  assert.ok(levels.d < levels.h && levels.ad < levels.ah);
});

test('aggregateDrift - names a rollup or activity row that a full scan of events does not give', async () => {
  await flush(sampleEvents(50, { seed: 32 }));
  await compactActivityDays(db.sql, { aheadDays: 0, now: new Date('2026-11-22T00:00:00Z') });
  assert.deepEqual(await aggregateDrift(db.sql), []);
  await db.sql`update rollups_hour set events = events + 1 where ctid = (select ctid from rollups_hour limit 1)`;
  await db.sql`delete from activity_sets_day where ctid = (select ctid from activity_sets_day limit 1)`;
  const drift = await aggregateDrift(db.sql);
  assert.ok(drift.some((d) => d.startsWith('rollups_hour: missing from rollups')), drift.join('\n'));
  assert.ok(drift.some((d) => d.startsWith('rollups_hour: not in events')), drift.join('\n'));
  assert.ok(drift.some((d) => d.startsWith('activity_sets_day: missing from activity')), drift.join('\n'));
  assert.ok(!drift.some((d) => d.startsWith('rollups_minute')), drift.join('\n'));
});

test('flush - partition keys must match the events one for one', async () => {
  await assert.rejects(flushBatch(db.sql, { events: sampleEvents(2), partitionKeys: ['x'], deadLetters: [] }), RangeError);
});

test('flush - a deadlock with another transaction is retried, and the batch is still counted once', async () => {
  const at = Date.UTC(2026, 10, 20, 12, 30);
  const e1: KeyflowEvent = { id: 'dl-1', type: 'a', source: 's', occurredAt: at };
  const e2: KeyflowEvent = { id: 'dl-2', type: 'b', source: 's', occurredAt: at };
  const other = await db.sql.reserve();
  try {
    // Another writer holds the rollup row of e2 ('b'), then asks for e1's ('a'), which the flush holds by then.
    await other`begin`;
    await other`insert into rollups_minute (bucket, source, type, events) values (${new Date(at)}, 's', 'b', 10)`;
    const retries: string[] = [];
    const flushing = flushBatch(db.sql, { events: [e1, e2], partitionKeys: ['k', 'k'], deadLetters: [] }, {
      onRetry: (e) => retries.push((e as { code?: string }).code ?? '?'),
    });
    await new Promise((r) => setTimeout(r, 300));
    await other`insert into rollups_minute (bucket, source, type, events) values (${new Date(at)}, 's', 'a', 10)
      on conflict (bucket, source, type, funnel_stage, currency) do update set events = rollups_minute.events + 10`;
    await other`commit`;
    const r = await flushing;
    assert.deepEqual(retries, ['40P01']);
    assert.deepEqual(r.inserted, [e1, e2]);
  } finally {
    other.release();
  }
  assert.deepEqual((await rollups()).map((r) => [r.type, r.events]), [['a', 11], ['b', 11]]);
});

test('flush - text with tabs, newlines, backslashes and any Unicode is stored byte for byte', async () => {
  const odd = 'tab\there\nnew\rline \\N back\\slash \\. end 🎉 é 中 \u2028';
  const e: KeyflowEvent = {
    id: `odd ${odd}`, type: odd.slice(0, 64), source: '\\', occurredAt: Date.UTC(2026, 10, 20, 12, 1), userId: odd, sessionId: '\\N',
    user: { city: odd, country: '\t' }, properties: { [odd.slice(0, 60)]: odd, quote: '"\\"', n: 1e-7, big: 1e21 },
  };
  const r = await flush([e]);
  assert.deepEqual(r.inserted, [e]);
  const [row] = await db.sql`select id, type, source, user_id, session_id, user_city, user_country, properties from events`;
  assert.deepEqual({ ...row }, {
    id: e.id, type: e.type, source: '\\', user_id: odd, session_id: '\\N', user_city: odd, user_country: '\t', properties: e.properties,
  });
});

test('flush - an event with text PostgreSQL cannot store is refused as a data error (SQLSTATE class 22), and nothing of the batch is stored', async () => {
  const ok = sampleEvents(3, { seed: 18 });
  for (const bad of [
    { id: 'nul', type: 'a\u0000b', source: 's', occurredAt: Date.UTC(2026, 10, 20, 12) },
    { id: 'surrogate', type: 't', source: '\ud800', occurredAt: Date.UTC(2026, 10, 20, 12) },
    { id: 'json-nul', type: 't', source: 's', occurredAt: Date.UTC(2026, 10, 20, 12), properties: { k: 'x\u0000' } },
  ] satisfies KeyflowEvent[]) {
    await assert.rejects(flush([...ok, bad]), (e: unknown) => {
      const code = (e as { code?: unknown }).code;
      assert.ok(typeof code === 'string' && code.startsWith('22'), `${bad.id}: code ${String(code)}`);
      return true;
    });
  }
  assert.equal(await eventCount(), 0);
  assert.equal((await flush(ok)).inserted.length, 3, 'the connection is usable afterwards');
});

test('flush - a connection killed in the middle of a flush rejects it, never hangs, and the retry stores it once', async () => {
  const pool = db.connect({ max: 1 });
  const events = sampleEvents(20_000, { seed: 19, spreadMs: 120_000 });
  const [{ pid }] = await pool<[{ pid: number }]>`select pg_backend_pid() as pid`;
  // The outcome is taken at once: the flush may reject (EPIPE) while the kill is still being
  // sent, and a rejection nobody has handled yet fails the run (CI saw exactly that).
  const flushing = flushBatch(pool, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] })
    .then(() => 'resolved', () => 'rejected');
  // Kill it while the flush statement runs.
  await eventuallyTrue(async () => (await db.sql`select 1 from pg_stat_activity where pid = ${pid} and state = 'active'`).length > 0);
  await db.sql`select pg_terminate_backend(${pid})`;
  const outcome = await Promise.race([
    flushing,
    new Promise((r) => setTimeout(() => r('hung'), 15_000)),
  ]);
  assert.notEqual(outcome, 'hung');
  // Retried as the worker would: the pool may first hand back the dead connection's error.
  let again: FlushResult | undefined;
  for (let attempt = 1; again === undefined; attempt++) {
    try {
      again = await flushBatch(pool, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
    } catch (e) {
      if (attempt >= 5) throw e;
    }
  }
  assert.equal(again.inserted.length, outcome === 'rejected' ? 20_000 : 0);
  assert.equal(await eventCount(), 20_000);
  assert.equal((await rollups()).reduce((n, x) => n + x.events, 0), 20_000);
});

async function eventuallyTrue(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

type UserRow = { user_id: string; age: number | null; gender: string | null; country: string | null; city: string | null; first_seen: Date; last_seen: Date; events: string };

async function users(): Promise<UserRow[]> {
  return [...(await db.sql<UserRow[]>`select user_id, age, gender, country, city, first_seen, last_seen, events::text as events from users order by user_id`)];
}

const at = (m: number): number => Date.UTC(2026, 10, 20, 12, m);
const seen = (id: string, m: number, userId: string, user?: KeyflowEvent['user']): KeyflowEvent =>
  ({ id, type: 'view', source: 'web', occurredAt: at(m), userId, ...(user !== undefined && { user }) });

test('users - each field keeps the value of the newest event that carried it, and first/last seen span every event', async () => {
  await flush([
    seen('a1', 10, 'u1', { age: 30, gender: 'female', country: 'US', city: 'Austin' }),
    seen('a2', 20, 'u1', { country: 'DE' }),
    seen('a3', 30, 'u1'),
    seen('b1', 5, 'u2', { age: 41 }),
  ]);
  assert.deepEqual(await users(), [
    { user_id: 'u1', age: 30, gender: 'female', country: 'DE', city: 'Austin', first_seen: new Date(at(10)), last_seen: new Date(at(30)), events: '3' },
    { user_id: 'u2', age: 41, gender: null, country: null, city: null, first_seen: new Date(at(5)), last_seen: new Date(at(5)), events: '1' },
  ]);
});

test('users - an older event arriving late does not overwrite newer demographics, but fills what was never said and moves first_seen', async () => {
  await flush([seen('n1', 30, 'u3', { age: 25, country: 'BR' })]);
  await flush([seen('o1', 10, 'u3', { age: 99, country: 'US', city: 'Boston' })]);
  assert.deepEqual(await users(), [
    { user_id: 'u3', age: 25, gender: null, country: 'BR', city: 'Boston', first_seen: new Date(at(10)), last_seen: new Date(at(30)), events: '2' },
  ]);
});

test('users - a replayed batch counts no event twice and changes nothing', async () => {
  const events = sampleEvents(400, { seed: 20 });
  await flush(events);
  const before = await users();
  assert.equal(before.reduce((n, u) => n + Number(u.events), 0), 400);
  await flush(events);
  await flush([...events.slice(0, 50), ...sampleEvents(0)]);
  assert.deepEqual(await users(), before);
});

test('users - the same events flushed in any order and any split give the same users', async () => {
  // Ties on occurredAt included: the greater value wins whatever arrives first.
  const events: KeyflowEvent[] = [
    ...sampleEvents(300, { seed: 21, spreadMs: 60_000 }),
    seen('t1', 40, 'tie', { age: 20, gender: 'a', country: 'AA', city: 'x' }),
    seen('t2', 40, 'tie', { age: 21, gender: 'b', country: 'AB', city: 'w' }),
  ];
  await flush(events);
  const once = await users();
  assert.deepEqual(once.find((u) => u.user_id === 'tie'), { user_id: 'tie', age: 21, gender: 'b', country: 'AB', city: 'x', first_seen: new Date(at(40)), last_seen: new Date(at(40)), events: '2' });
  await db.sql`truncate events, rollups_minute, rollups_hour, rollups_day, activity_sets_hour, activity_sets_day, activity_days, users`;
  const reversed = [...events].reverse();
  for (let i = 0; i < reversed.length; i += 7) await flush(reversed.slice(i, i + 7));
  assert.deepEqual(await users(), once);
});

test('users - events without a userId touch no user', async () => {
  await flush([{ id: 'anon', type: 't', source: 's', occurredAt: at(1), user: { age: 3 } }]);
  assert.deepEqual(await users(), []);
});
