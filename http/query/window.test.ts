import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStorableText } from '../../actors/index.ts';
import { commaList, commaListPattern } from './window.ts';

const SEED = 20261207;

test('window - every string the published comma-list pattern admits is a list the rules accept, and the pattern is the rule', () => {
  const list = commaList(64);
  const re = commaListPattern(64, { min: 1, max: 1 }, true);
  fc.assert(fc.property(fc.stringMatching(re), (s) => list.safeParse(s).success), { seed: SEED, numRuns: 3000 });
  // Any well-formed string at all (a URL carries no lone surrogate): accepted exactly when the pattern matches it.
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.stringMatching(/^[ ,a\uFEFF]{0,8}$/)), (s) => !isStorableText(s.replaceAll('\u0000', '')) || list.safeParse(s).success === re.test(s)), { seed: SEED, numRuns: 3000 });
  for (const [s, ok] of [['a', true], [' a , ,b', true], [',,x', true], ['', false], [' , ', false], ['\uFEFF', false], ['x'.repeat(64), true], ['x'.repeat(65), false], ['😀'.repeat(64), true], ['😀'.repeat(65), false], ['a\u0000', false]] as const) {
    assert.equal(re.test(s), ok, JSON.stringify(s));
    assert.equal(list.safeParse(s).success, ok, JSON.stringify(s));
  }
  assert.equal(list.safeParse('a\uD800').success, false, 'a lone surrogate is refused after the pattern');
});

test('window - the funnel steps pattern admits only 2..10 non-empty steps', () => {
  const re = commaListPattern(64, { min: 2, max: 10 }, false);
  fc.assert(fc.property(fc.stringMatching(re), (s) => {
    const steps = s.split(',').map((x) => x.trim());
    return steps.length >= 2 && steps.length <= 10 && steps.every((x) => x.length >= 1 && [...x].length <= 64);
  }), { seed: SEED, numRuns: 2000 });
  for (const [s, ok] of [['a,b', true], ['a', false], ['a,,b', false], [Array(11).fill('a').join(','), false], [' a , b ', true]] as const) assert.equal(re.test(s), ok, s);
});
