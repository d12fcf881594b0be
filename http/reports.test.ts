import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DemographicsReportQuery, EventsReportQuery, QueryPort, RevenueReportQuery } from './ports.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
const json = async (res: Response) => (await res.json()) as Json;

const NOW = Date.parse('2026-11-20T12:34:56.789Z');

type Asked = EventsReportQuery | RevenueReportQuery | DemographicsReportQuery;

function recordingQueries(): QueryPort & { readonly asked: Asked[] } {
  const asked: Asked[] = [];
  return {
    ...queriesMustNotBeCalled,
    asked,
    getEvent: () => assert.fail('not an event lookup'),
    listDeadLetters: () => assert.fail('not a dead-letter listing'),
    reportEvents(q) {
      asked.push(q);
      return Promise.resolve({ total: 3, groups: [{ type: 'page.view', count: 2 }, { type: 'ad.click', count: 1 }] });
    },
    reportRevenue(q) {
      asked.push(q);
      return Promise.resolve({ currencies: [{ currency: 'USD', revenue: '-1.5', events: 2 }] });
    },
    reportDemographics(q) {
      asked.push(q);
      return Promise.resolve({ users: 2, events: 5, groups: [{ value: 'DE', users: 1, events: 4 }, { value: null, users: 1, events: 1 }] });
    },
  };
}

test('GET /v1/reports/events - by default the window is the 24 hours up to the next whole minute', async () => {
  const queries = recordingQueries();
  const res = await appWith({ queries, options: { now: () => NOW } }).request('/v1/reports/events');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), {
    from: '2026-11-19T12:35:00.000Z',
    to: '2026-11-20T12:35:00.000Z',
    total: 3,
    groups: [{ type: 'page.view', count: 2 }, { type: 'ad.click', count: 1 }],
  });
  assert.deepEqual(queries.asked, [
    { from: new Date('2026-11-19T12:35:00Z'), to: new Date('2026-11-20T12:35:00Z'), groupBy: [] },
  ]);
});

test('GET /v1/reports/events - filters, groupBy and epoch-millisecond bounds reach the query port', async () => {
  const queries = recordingQueries();
  const from = Date.parse('2026-11-01T00:00:00Z');
  const url = `/v1/reports/events?from=${from}&to=2026-11-02T01:00:00%2B01:00&source=web&type=page.view,%20ad.click,page.view&funnelStage=top&groupBy=type,%20source,type`;
  const res = await appWith({ queries }).request(url);
  assert.equal(res.status, 200);
  const b = await json(res);
  assert.equal(b.from, '2026-11-01T00:00:00.000Z');
  assert.equal(b.to, '2026-11-02T00:00:00.000Z');
  assert.deepEqual(queries.asked, [
    {
      from: new Date(from),
      to: new Date('2026-11-02T00:00:00Z'),
      groupBy: ['type', 'source'],
      source: ['web'],
      type: ['page.view', 'ad.click'],
      funnelStage: 'top',
    },
  ]);
});

test('GET /v1/reports/events - an unknown groupBy dimension is a 400 that names it', async () => {
  const res = await appWith().request('/v1/reports/events?groupBy=type,country');
  assert.equal(res.status, 400);
  const b = await json(res);
  assert.equal(b.error?.code, 'invalid_query');
  assert.match(b.error?.message ?? '', /groupBy/);
  assert.match(b.error?.message ?? '', /"country"/);
});

test('GET /v1/reports/events - from at or after to is a 400', async () => {
  const app = appWith();
  for (const q of ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'from=1000&to=1000']) {
    const res = await app.request(`/v1/reports/events?${q}`);
    assert.equal(res.status, 400, q);
    const b = await json(res);
    assert.equal(b.error?.code, 'invalid_query');
    assert.match(b.error?.message ?? '', /from .* must be before to/);
  }
});

test('GET /v1/reports/events - any window is valid, all of time included', async () => {
  const queries = recordingQueries();
  const ok = await appWith({ queries }).request('/v1/reports/events?from=1970-01-01T00:00:00Z&to=9999-12-31T00:00:00Z');
  assert.equal(ok.status, 200);
  assert.deepEqual(queries.asked, [{ from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T00:00:00Z'), groupBy: [] }]);
});

test('GET /v1/reports/events - bad instants, funnel stages and unknown parameters are 400s naming the parameter', async () => {
  const app = appWith();
  const cases: [string, RegExp][] = [
    ['from=yesterday', /^from: /],
    ['to=2026-11-20', /^to: /],
    ['funnelStage=middle', /^funnelStage: /],
    ['group_by=type', /group_by/],
    ['source=', /^source: /],
  ];
  for (const [q, message] of cases) {
    const res = await app.request(`/v1/reports/events?${q}`);
    assert.equal(res.status, 400, q);
    const b = await json(res);
    assert.equal(b.error?.code, 'invalid_query', q);
    assert.match(b.error?.message ?? '', message, q);
  }
});

test('GET /v1/reports/revenue and /demographics - the window, filters and dimensions reach the query port', async () => {
  const queries = recordingQueries();
  const app = appWith({ queries, options: { now: () => NOW } });
  const rev = await app.request('/v1/reports/revenue?groupBy=type,source&source=a,b');
  assert.equal(rev.status, 200);
  assert.deepEqual(await rev.json(), {
    from: '2026-11-19T12:35:00.000Z', to: '2026-11-20T12:35:00.000Z', currencies: [{ currency: 'USD', revenue: '-1.5', events: 2 }],
  });
  const dem = await app.request('/v1/reports/demographics?by=country&type=x&funnelStage=bottom&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z');
  assert.equal(dem.status, 200);
  assert.deepEqual(await dem.json(), {
    from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T00:00:00.000Z', by: 'country', users: 2, events: 5,
    groups: [{ value: 'DE', users: 1, events: 4 }, { value: null, users: 1, events: 1 }],
  });
  assert.deepEqual(queries.asked, [
    { from: new Date('2026-11-19T12:35:00Z'), to: new Date('2026-11-20T12:35:00Z'), groupBy: ['type', 'source'], source: ['a', 'b'] },
    { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z'), by: 'country', type: ['x'], funnelStage: 'bottom' },
  ]);
});

test('GET /v1/reports/* - every bad or unknown parameter is a 400 whose message and details name it', async () => {
  const app = appWith();
  const cases: [string, string][] = [
    ['/v1/reports/events?groupBy=foo', 'groupBy'],
    ['/v1/reports/events?groupBy=type,country', 'groupBy'],
    ['/v1/reports/events?by=gender', 'by'],
    ['/v1/reports/events?type=,', 'type'],
    ['/v1/reports/events?source=a,%00', 'source'],
    ['/v1/reports/events?format=xml', 'format'],
    ['/v1/reports/events?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'from'],
    ['/v1/reports/events?to=0001-01-01T00:00:00Z', 'to'],
    ['/v1/reports/revenue?groupBy=foo', 'groupBy'],
    ['/v1/reports/revenue?groupBy=funnelStage', 'groupBy'],
    ['/v1/reports/revenue?from=x', 'from'],
    ['/v1/reports/revenue?to=10000-01-01T00:00:00Z', 'to'],
    ['/v1/reports/revenue?currency=USD', 'currency'],
    ['/v1/reports/revenue?funnelStage=mid', 'funnelStage'],
    ['/v1/reports/demographics', 'by'],
    ['/v1/reports/demographics?by=foo', 'by'],
    ['/v1/reports/demographics?by=age&groupBy=type', 'groupBy'],
    ['/v1/reports/demographics?by=age&from=5&to=5', 'from'],
    ['/v1/reports/demographics?by=city&source=', 'source'],
  ];
  for (const [url, param] of cases) {
    const res = await app.request(url);
    assert.equal(res.status, 400, url);
    const b = await json(res);
    assert.equal(b.error?.code, 'invalid_query', url);
    assert.match(b.error?.message ?? '', new RegExp(`\\b${param}\\b`), url);
    // A comma list's bad item is named with its index (source.1).
    assert.ok((b.error?.details as { path: string }[]).some((d) => d.path.split('.')[0] === param), `${url}: details name ${param}`);
  }
});
