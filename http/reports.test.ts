import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventsReportQuery, QueryPort } from './ports.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string; details?: unknown } };
const json = async (res: Response) => (await res.json()) as Json;

const NOW = Date.parse('2026-11-20T12:34:56.789Z');

function recordingQueries(): QueryPort & { readonly asked: EventsReportQuery[] } {
  const asked: EventsReportQuery[] = [];
  return {
    ...queriesMustNotBeCalled,
    asked,
    getEvent: () => assert.fail('not an event lookup'),
    listDeadLetters: () => assert.fail('not a dead-letter listing'),
    reportEvents(q) {
      asked.push(q);
      return Promise.resolve({ total: 3, groups: [{ type: 'page.view', count: 2 }, { type: 'ad.click', count: 1 }] });
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
  const url = `/v1/reports/events?from=${from}&to=2026-11-02T01:00:00%2B01:00&source=web&type=page.view&funnelStage=top&groupBy=type,%20source,type`;
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
      source: 'web',
      type: 'page.view',
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

test('GET /v1/reports/events - a window longer than 366 days is a 400, and 366 days is allowed', async () => {
  const tooLong = await appWith().request('/v1/reports/events?from=2025-01-01T00:00:00Z&to=2026-01-03T00:00:00Z');
  assert.equal(tooLong.status, 400);
  assert.match((await json(tooLong)).error?.message ?? '', /366 days/);
  const queries = recordingQueries();
  const ok = await appWith({ queries }).request('/v1/reports/events?from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:00Z');
  assert.equal(ok.status, 200);
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
