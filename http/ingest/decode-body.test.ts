import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeBody, MAX_ERROR_CHARS, MAX_ERRORS_PER_EVENT } from './decode-body.ts';

const body = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const options = { maxBatchEvents: 1000, partitionKey: 'userId' } as const;

test('decodeBody - an event\'s error list is bounded: at most 20 errors then how many more, each path and message cut to 256 characters', () => {
  const longKey = 'k'.repeat(5_000);
  const properties = Object.fromEntries([[longKey, 1], ...Array.from({ length: 40 }, (_, i) => [`p${i}`, 'x'.repeat(2_000)])]);
  const d = decodeBody(body({ id: 'e', type: 't', source: 's', occurredAt: 0, properties }), options);
  assert.ok(d.ok);
  const errors = d.rejected[0]!.errors;
  assert.equal(errors.length, MAX_ERRORS_PER_EVENT + 1);
  assert.match(errors.at(-1)!.message, /^and \d+ more errors$/);
  assert.ok(errors.every((e) => [...e.path].length <= MAX_ERROR_CHARS && [...e.message].length <= MAX_ERROR_CHARS));
  assert.ok(errors.some((e) => e.path.startsWith('properties.kkkk') && e.path.endsWith('…')), 'the long key is echoed cut');
});
