// The canonical form of money: one amount always prints one way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeDecimal } from './report-revenue.ts';

test('normalizeDecimal - trailing zeros after the point go, integer zeros stay, and every zero is "0"', () => {
  const cases: [string, string][] = [
    ['19.990', '19.99'], ['19.99', '19.99'], ['120', '120'], ['120.000', '120'], ['-5.50', '-5.5'],
    ['0', '0'], ['0.00', '0'], ['-0.00', '0'], ['-0', '0'], ['0.0001', '0.0001'], ['-1000000000000.10', '-1000000000000.1'],
  ];
  for (const [pg, want] of cases) assert.equal(normalizeDecimal(pg), want, pg);
});
