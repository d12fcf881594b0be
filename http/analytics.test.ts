// GET /v1/analytics/timeseries and /funnel through the edge on a real store: shapes, the
// zone offset in `t`, CSV with the JSON's numbers, and a 400 naming each bad parameter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { flushBatch, funnel, timeseries } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { oracleFunnel } from '../test/support/analytics-oracle.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

let db: TestDatabase;
let app: ReturnType<typeof appWith>;
const Z = (s: string): number => Date.parse(s);
const events: KeyflowEvent[] = [
  { id: 'a1', type: 'view', source: 'web', occurredAt: Z('2026-03-08T04:59:59.999Z'), userId: 'u1' },
  { id: 'a2', type: 'cart', source: 'web', occurredAt: Z('2026-03-08T05:00:00Z'), userId: 'u1', revenue: { amount: 10.5, currency: 'USD' } },
  { id: 'a3', type: 'buy', source: 'ios', occurredAt: Z('2026-03-08T05:00:00Z'), userId: 'u2', revenue: { amount: -0.5, currency: 'USD' } },
  { id: 'a4', type: 'buy', source: 'ios', occurredAt: Z('2026-03-09T03:00:00Z'), revenue: { amount: 3, currency: 'EUR' } },
  { id: 'a0', type: 'cart', source: 'web', occurredAt: Z('2026-03-08T04:59:59.999Z'), userId: 'u1' },
];

before(async () => {
  db = await createTestDatabase();
  await flushBatch(db.sql, { events, partitionKeys: events.map((e) => partitionKeyOf(e)), deadLetters: [] });
  app = appWith({ queries: { ...queriesMustNotBeCalled, timeseries: (q) => timeseries(db.sql, q), funnel: (q) => funnel(db.sql, q) } });
});
after(() => db?.drop());

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await app.request(url, { headers });
  return { status: res.status, res, body: res.headers.get('content-type')?.startsWith('text/csv') ? await res.text() : ((await res.json()) as Record<string, unknown>) };
};

test('timeseries - 1d in New York: the 23-hour day, t with its offset, zeros, revenue per currency', async () => {
  const { status, body } = await get('/v1/analytics/timeseries?from=2026-03-07T05:00:00Z&to=2026-03-09T04:00:00Z&interval=1d&tz=America/New_York');
  assert.equal(status, 200);
  assert.deepEqual(body, {
    from: '2026-03-07T05:00:00.000Z', to: '2026-03-09T04:00:00.000Z', interval: '1d', tz: 'America/New_York',
    points: [
      { t: '2026-03-07T00:00:00.000-05:00', events: 2, users: 1, revenue: {} },
      { t: '2026-03-08T00:00:00.000-05:00', events: 3, users: 2, revenue: { EUR: '3', USD: '10' } },
    ],
  });
});

test('timeseries - CSV has the JSON numbers, one row per point and currency', async () => {
  const url = '/v1/analytics/timeseries?from=2026-03-08T04:00:00Z&to=2026-03-08T07:00:00Z&interval=1h';
  const { body } = await get(url, { accept: 'text/csv' });
  assert.equal(body, [
    't,events,users,currency,revenue',
    '2026-03-08T04:00:00.000Z,2,1,,',
    '2026-03-08T05:00:00.000Z,2,2,USD,10',
    '2026-03-08T06:00:00.000Z,0,0,,',
    '',
  ].join('\r\n'));
  assert.equal((await get(`${url}&format=csv`)).body, body);
});

test('timeseries - a zone in any letter case is answered in its IANA spelling, never ICU\'s alias', async () => {
  for (const [sent, meant] of [['asia/kolkata', 'Asia/Kolkata'], ['ASIA/CALCUTTA', 'Asia/Calcutta'], ['utc', 'UTC']] as const) {
    const { status, body } = await get(`/v1/analytics/timeseries?from=2026-03-08T00:00:00Z&to=2026-03-08T01:00:00Z&interval=1h&tz=${sent}`);
    assert.equal(status, 200, sent);
    assert.equal((body as { tz: string }).tz, meant, sent);
  }
  const { body } = await get('/v1/analytics/timeseries?from=2026-03-08T00:00:00Z&to=2026-03-08T01:00:00Z&interval=1h&tz=asia/kolkata');
  assert.equal((body as { points: { t: string }[] }).points[0]?.t, '2026-03-08T05:00:00.000+05:30');
});

test('timeseries - 400 naming interval, tz, unknown params; all of time at 1d is a 400 naming interval', async () => {
  const cases: [string, string][] = [
    ['interval=5m', 'interval'],
    ['tz=Mars/Olympus', 'tz'],
    ['tz=', 'tz'],
    ['bogus=1', 'bogus'],
    ['steps=a,b', 'steps'],
    ['from=1970-01-01T00:00:00Z&to=9999-12-31T00:00:00Z&interval=1d', 'interval'],
    ['from=2026-01-01T00:00:00Z&to=2026-01-08T00:00:00Z&interval=1m', 'interval'],
  ];
  for (const [qs, param] of cases) {
    const { status, body } = await get(`/v1/analytics/timeseries?${qs}`);
    assert.equal(status, 400, qs);
    const err = (body as { error: { code: string; details: { path: string }[] } }).error;
    assert.equal(err.code, 'invalid_query', qs);
    assert.ok(err.details.some((d) => d.path === param), `${qs}: ${JSON.stringify(err)}`);
  }
});

test('funnel - shape and numbers; equal occurredAt with a greater id counts as later', async () => {
  const { status, body } = await get('/v1/analytics/funnel?from=2026-03-08T00:00:00Z&to=2026-03-10T00:00:00Z&steps=cart,view,cart&window=30m');
  assert.equal(status, 200);
  // u1: a0 cart @04:59:59.999, a1 view (same instant, greater id), a2 cart @05:00.
  const want = oracleFunnel(events, { from: Z('2026-03-08T00:00:00Z'), to: Z('2026-03-10T00:00:00Z'), steps: ['cart', 'view', 'cart'], windowMs: 1_800_000 });
  assert.deepEqual(body, { from: '2026-03-08T00:00:00.000Z', to: '2026-03-10T00:00:00.000Z', window: '30m', steps: want });
  assert.deepEqual(want.map((s) => s.users), [1, 1, 1]);
  assert.deepEqual(want.map((s) => s.medianMsFromPrevious), [null, 0, 1]);
  const d = await get('/v1/analytics/funnel?from=2026-03-08T00:00:00Z&to=2026-03-10T00:00:00Z&steps=view,buy');
  assert.equal((d.body as { window: string }).window, '1d');
});

test('funnel - 400 naming steps, window, and unknown params (type, format)', async () => {
  const cases: [string, string][] = [
    ['steps=a', 'steps'],
    ['steps=a,b,c,d,e,f,g,h,i,j,k', 'steps'],
    ['steps=a,,b', 'steps'],
    ['', 'steps'],
    ['steps=a,b&window=0m', 'window'],
    ['steps=a,b&window=1w', 'window'],
    ['steps=a,b&type=x', 'type'],
    ['steps=a,b&format=csv', 'format'],
  ];
  for (const [qs, param] of cases) {
    const { status, body } = await get(`/v1/analytics/funnel?${qs}`);
    assert.equal(status, 400, qs);
    const err = (body as { error: { details: { path: string }[] } }).error;
    assert.ok(err.details.some((x) => x.path === param), `${qs}: ${JSON.stringify(err)}`);
  }
});
