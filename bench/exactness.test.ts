import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExactness } from './exactness.ts';
import type { StoreFacts } from './measure.ts';

const exact: StoreFacts = { rows: 1500, distinctIds: 1500, foreign: 0, perPhase: { main: { ids: 1000, maxIndex: 999 }, half: { ids: 500, maxIndex: 499 } }, rollupSum: 1500, deadLetters: 0 };
const sent = { main: 1000, half: 500 };

test('exactness - a store holding each sent event once, counted once, passes', () => {
  const x = checkExactness(sent, exact);
  assert.deepEqual([x.ok, x.expected, x.stored, x.rollupSum, x.problems], [true, 1500, 1500, 1500, []]);
});

test('exactness - a lost event, a double count, a duplicate row or a dead letter each fail the run', () => {
  assert.match(checkExactness(sent, { ...exact, distinctIds: 1499, rows: 1499, perPhase: { ...exact.perPhase, main: { ids: 999, maxIndex: 999 } } }).problems.join('\n'), /1,499 distinct events but 1,500 were sent \(1 missing\)/);
  assert.match(checkExactness(sent, { ...exact, rollupSum: 1501 }).problems.join('\n'), /rollups_minute counts 1,501 events but 1,500 distinct were sent \(1 more\)/);
  assert.match(checkExactness(sent, { ...exact, rows: 1502 }).problems.join('\n'), /2 events are stored more than once/);
  assert.match(checkExactness(sent, { ...exact, deadLetters: 3 }).problems.join('\n'), /3 messages were dead-lettered/);
  assert.match(checkExactness(sent, { ...exact, foreign: 1 }).problems.join('\n'), /not sent by this run/);
});

test('exactness - the right number of the wrong ids fails too', () => {
  const x = checkExactness(sent, { ...exact, perPhase: { ...exact.perPhase, main: { ids: 1000, maxIndex: 1000 } } });
  assert.equal(x.ok, false);
  assert.match(x.problems.join('\n'), /phase main: stored ids do not match/);
});
