import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs } from './backoff.ts';

test('backoff - doubles from the base, caps at the maximum, jitters within [½, 1) of the ceiling', () => {
  const b = { baseMs: 100, maxMs: 1_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => backoffMs(n, b, () => 0.999_999)).map(Math.round), [100, 200, 400, 800, 1_000, 1_000]);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, b, () => 0)), [50, 100, 200, 400, 500]);
  for (let i = 0; i < 1_000; i++) {
    const n = 1 + (i % 12);
    const d = backoffMs(n, b);
    const ceiling = Math.min(1_000, 100 * 2 ** (n - 1));
    assert.ok(d >= ceiling / 2 && d < ceiling, `retry ${n}: ${d} ms outside [${ceiling / 2}, ${ceiling})`);
  }
  assert.equal(backoffMs(0, b, () => 0), 50, 'attempt 0 is treated as the first');
});
