import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isRetryableStatus, retryAfterMs, retryDelayMs } from './retry.ts';
import { uuidv7 } from './uuid.ts';

test('retryDelayMs - grows exponentially with full jitter, capped, and never below Retry-After', () => {
  const top = () => 0.999999;
  assert.ok(retryDelayMs(1, null, { initialMs: 100 }, top) < 100);
  assert.ok(retryDelayMs(4, null, { initialMs: 100 }, top) > 790);
  assert.ok(retryDelayMs(30, null, { initialMs: 100, maxMs: 2_000 }, top) <= 2_000);
  assert.equal(retryDelayMs(1, null, {}, () => 0), 0);
  assert.equal(retryDelayMs(1, '3', {}, () => 0), 3_000);
  assert.equal(retryDelayMs(1, new Date(10_000 + 5_000).toUTCString(), {}, () => 0, 10_000), 5_000);
});

test('retryAfterMs - reads seconds and HTTP dates, ignores what it cannot read', () => {
  assert.equal(retryAfterMs('2'), 2_000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs('Thu, 01 Jan 1970 00:00:01 GMT', 0), 1_000);
});

test('isRetryableStatus - retries what can succeed later, never a refusal', () => {
  for (const s of [408, 429, 502, 503, 504]) assert.equal(isRetryableStatus(s), true, String(s));
  for (const s of [400, 401, 403, 404, 413, 415, 500]) assert.equal(isRetryableStatus(s), false, String(s));
});

test('uuidv7 - version 7, RFC 9562 variant, time-ordered and unique', () => {
  const a = uuidv7(1_000);
  const b = uuidv7(2_000);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(a < b);
  assert.equal(new Set(Array.from({ length: 1000 }, () => uuidv7())).size, 1000);
});
