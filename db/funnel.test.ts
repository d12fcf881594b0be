// The funnel against a naive oracle: random events through the real flush (with resends),
// repeated steps, ties in occurredAt, events without userId, windows short and long.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { generateEvents, oracleFunnel } from '../test/support/analytics-oracle.ts';
import { flushBatch } from './flush.ts';
import { funnel, userChain } from './funnel.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
let events: KeyflowEvent[] = [];
const Z = (s: string): number => Date.parse(s);
const A = Z('2026-05-01T00:00:00Z');
const B = Z('2026-05-03T00:00:00Z');

before(async () => {
  db = await createTestDatabase();
  events = generateEvents({ seed: 11, n: 3000, spans: [[A, A + 2 * 3_600_000], [A, B]], types: ['view', 'cart', 'buy', 'other'], users: 60 });
  const flush = (es: readonly KeyflowEvent[]) => flushBatch(db.sql, { events: es, partitionKeys: es.map((e) => partitionKeyOf(e)), deadLetters: [] });
  for (let i = 0; i < events.length; i += 500) await flush(events.slice(i, i + 500));
  await flush(events.slice(0, 900)); // resent
});
after(() => db?.drop());

async function check(q: { from: number; to: number; steps: string[]; windowMs: number; source?: string[] }) {
  const got = await funnel(db.sql, { ...q, from: new Date(q.from), to: new Date(q.to) });
  const want = oracleFunnel(events, q);
  assert.deepEqual(got, want, JSON.stringify(q));
  return got;
}

test('funnel - three steps over windows short and long, and unaligned bounds, equal the oracle', async () => {
  for (const windowMs of [60_000, 30 * 60_000, 3_600_000, 86_400_000]) {
    const got = await check({ from: A, to: B, steps: ['view', 'cart', 'buy'], windowMs });
    assert.ok((got[0]?.users ?? 0) > 0);
  }
  await check({ from: A + 1234, to: B - 98_765, steps: ['cart', 'view'], windowMs: 600_000 });
  await check({ from: A, to: B, steps: ['view', 'cart', 'buy'], windowMs: 3_600_000, source: ['ios'] });
});

test('funnel - repeated steps need a later event; ties in occurredAt count by id', async () => {
  const got = await check({ from: A, to: B, steps: ['view', 'view', 'cart', 'view'], windowMs: 7_200_000 });
  assert.ok((got[1]?.users ?? 0) > 0);
  await check({ from: A, to: B, steps: ['buy', 'buy', 'buy', 'buy', 'buy', 'buy', 'buy', 'buy', 'buy', 'buy'], windowMs: 86_400_000 });
  await check({ from: A, to: B, steps: ['view', 'other'], windowMs: 0 });
});

test('funnel - no matching events gives zeros and nulls', async () => {
  assert.deepEqual(await check({ from: 0, to: 1000, steps: ['view', 'cart'], windowMs: 1000 }), [
    { type: 'view', users: 0, conversionFromFirst: 0, conversionFromPrevious: 0, medianMsFromPrevious: null },
    { type: 'cart', users: 0, conversionFromFirst: 0, conversionFromPrevious: 0, medianMsFromPrevious: null },
  ]);
});

test('userChain - the chain reaching furthest wins, ties by the earliest e1; the window counts from e1', () => {
  assert.deepEqual(userChain({ t: [0, 5, 20, 22, 23], type: ['a', 'b', 'a', 'b', 'c'] }, ['a', 'b', 'c'], 10), [20, 22, 23]);
  assert.deepEqual(userChain({ t: [0, 5, 20, 22], type: ['a', 'b', 'a', 'b'] }, ['a', 'b', 'c'], 10), [0, 5]);
  assert.deepEqual(userChain({ t: [0, 5, 11], type: ['a', 'b', 'c'] }, ['a', 'b', 'c'], 10), [0, 5]);
  assert.deepEqual(userChain({ t: [0, 0], type: ['a', 'a'] }, ['a', 'a'], 0), [0, 0]);
  assert.deepEqual(userChain({ t: [0], type: ['a'] }, ['a', 'a'], 10), [0]);
});
