// Groups in an answer are bounded (DESIGN.md *Security*) on a real store with 20,000 distinct
// types, sources and cities: each report answers at most `limit` groups (default 1,000, at
// most 10,000) in its order, says `truncated: true` when more exist, keeps its totals over
// every group, and PostgreSQL itself sends no more than limit + 1 group rows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { flushBatch, reportDemographics, reportEvents, reportRevenue, type Sql } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

const N = 20_000;
const T0 = Date.parse('2026-03-08T10:00:00Z');
const WINDOW = 'from=2026-03-08T00:00:00Z&to=2026-03-09T00:00:00Z';
const pad = (i: number): string => String(i).padStart(5, '0');
let db: TestDatabase;
/** The most rows one statement of the reports returned. */
let largestResult = 0;
let app: ReturnType<typeof appWith>;

/** A view of `sql` that notes how many rows each statement it ran returned. */
function counting(sql: Sql): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const q = Reflect.apply(target, thisArg, args) as Promise<unknown> & { executed?: boolean };
      if (!Array.isArray((args[0] as { raw?: unknown } | undefined)?.raw)) return q;
      // A statement is awaited by the report; a fragment never is, and must not be started here.
      const then = q.then.bind(q);
      (q as { then: unknown }).then = (ok?: (v: unknown) => unknown, ko?: (e: unknown) => unknown) =>
        then((rows) => {
          if (Array.isArray(rows)) largestResult = Math.max(largestResult, rows.length);
          return ok === undefined ? rows : ok(rows);
        }, ko);
      return q;
    },
  });
}

before(async () => {
  db = await createTestDatabase();
  // Type t-i, source s-i and city c-i once each; t-19999 (and its user's city) three times, first.
  const events: KeyflowEvent[] = [];
  for (let i = 0; i < N; i++) {
    events.push({ id: `e-${i}`, type: `t-${pad(i)}`, source: `s-${pad(i)}`, occurredAt: T0 + i, userId: `u-${i}`, user: { city: `c-${pad(i)}` }, revenue: { amount: 1, currency: 'USD' } });
  }
  for (let k = 0; k < 2; k++) events.push({ id: `x-${k}`, type: `t-${pad(N - 1)}`, source: `s-${pad(N - 1)}`, occurredAt: T0 + k, userId: `u-${N - 1}`, revenue: { amount: 1, currency: 'USD' } });
  for (let i = 0; i < events.length; i += 2_000) {
    const part = events.slice(i, i + 2_000);
    await flushBatch(db.sql, { events: part, partitionKeys: part.map((e) => partitionKeyOf(e)), deadLetters: [] });
  }
  const sql = counting(db.sql);
  app = appWith({
    queries: {
      ...queriesMustNotBeCalled,
      reportEvents: (q) => reportEvents(sql, q),
      reportRevenue: (q) => reportRevenue(sql, q),
      reportDemographics: (q) => reportDemographics(sql, q),
    },
  });
});
after(() => db?.drop());

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  largestResult = 0;
  const res = await app.request(path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

type Events = { total: number; groups: { type: string; count: number }[]; truncated?: true };

test('events report - 20,000 types answer the first 1,000 by default, truncated, the total over all; PostgreSQL sends 1,001 rows', async () => {
  const { status, body } = await get(`/v1/reports/events?${WINDOW}&groupBy=type`);
  assert.equal(status, 200);
  const r = body as Events;
  assert.equal(r.groups.length, 1_000);
  assert.equal(r.truncated, true);
  assert.equal(r.total, N + 2);
  assert.deepEqual(r.groups[0], { type: `t-${pad(N - 1)}`, count: 3 });
  assert.deepEqual(r.groups.slice(1, 3), [{ type: 't-00000', count: 1 }, { type: 't-00001', count: 1 }]);
  assert.equal(r.groups.at(-1)?.type, 't-00998');
  assert.equal(largestResult, 1_001);
});

test('events report - limit picks how many (10,000 at most); no truncated when every group fits', async () => {
  const ten = (await get(`/v1/reports/events?${WINDOW}&groupBy=type,source&limit=10000`)).body as Events;
  assert.equal(ten.groups.length, 10_000);
  assert.equal(ten.truncated, true);
  assert.equal(largestResult, 10_001);
  const few = (await get(`/v1/reports/events?from=2026-03-08T10:00:00Z&to=2026-03-08T10:00:00.002Z&groupBy=type&limit=3`)).body as Events;
  assert.deepEqual(few, { from: '2026-03-08T10:00:00.000Z', to: '2026-03-08T10:00:00.002Z', total: 4, groups: [{ type: `t-${pad(N - 1)}`, count: 2 }, { type: 't-00000', count: 1 }, { type: 't-00001', count: 1 }] });
});

test('revenue report - groups per currency bounded, the currency and the answer say truncated, sums over all', async () => {
  const { body } = await get(`/v1/reports/revenue?${WINDOW}&groupBy=source&limit=50`);
  const r = body as { currencies: { currency: string; revenue: string; events: number; groups: { source: string; events: number }[]; truncated?: true }[]; truncated?: true };
  assert.equal(r.truncated, true);
  assert.equal(r.currencies.length, 1);
  const usd = r.currencies[0]!;
  assert.equal(usd.revenue, String(N + 2));
  assert.equal(usd.events, N + 2);
  assert.equal(usd.truncated, true);
  assert.equal(usd.groups.length, 50);
  assert.deepEqual(usd.groups[0], { source: `s-${pad(N - 1)}`, revenue: '3', events: 3 });
  assert.equal(usd.groups[1]?.source, 's-00000');
  assert.ok(largestResult <= 52, `PostgreSQL sent ${largestResult} rows`);
});

test('demographics - 20,000 cities answer 1,000 groups, truncated, users and events over all', async () => {
  const { body } = await get(`/v1/reports/demographics?${WINDOW}&by=city`);
  const r = body as { users: number; events: number; groups: { value: string | null; users: number }[]; truncated?: true };
  assert.equal(r.users, N);
  assert.equal(r.events, N + 2);
  assert.equal(r.groups.length, 1_000);
  assert.equal(r.truncated, true);
  assert.deepEqual(r.groups.slice(0, 2).map((g) => g.value), ['c-00000', 'c-00001']);
  assert.equal(largestResult, 1_001);
});

test('limit - 0, 10001, -1, 1.5 and 007 are 400s naming limit', async () => {
  for (const bad of ['0', '10001', '-1', '1.5', '007', '']) {
    const { status, body } = await get(`/v1/reports/events?groupBy=type&limit=${bad}`);
    assert.equal(status, 400, bad);
    assert.ok(JSON.stringify(body).includes('"path":"limit"'), `${bad}: ${JSON.stringify(body)}`);
  }
});
