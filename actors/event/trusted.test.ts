// Validated once: what the edge produces, decoded as trusted, is exactly what full validation
// returns — same fields, values and key order — and what is not shaped like the edge's wire
// form gets full validation's verdict.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeEvent, encodeEvent, validateEvent, type Decoded } from './validate.ts';

const MAX_MS = 253_402_300_799_999;

// Text the fast path takes and text only zod takes (astral characters: more UTF-16 units than
// the limit, not more code points), so both of the untrusted path's ways are compared.
const t = (max: number, min = 1) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: max }),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }),
    fc.constantFrom('😀'.repeat(max), 'x'.repeat(max), '1', '__proto__x', 'constructor', 'toString'),
  );
const instant = fc.oneof(
  fc.integer({ min: 0, max: MAX_MS }),
  fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  // Valid RFC 3339 that only zod takes (offsets, no milliseconds).
  fc.constantFrom('2026-12-01T10:00:00+01:00', '2026-12-01T10:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z'),
);
const validInput = fc.record(
  {
    id: t(128),
    type: t(64),
    source: t(64),
    occurredAt: instant,
    userId: t(128),
    sessionId: t(128),
    funnelStage: fc.constantFrom('top', 'bottom'),
    revenue: fc.record({ amount: fc.oneof(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.constantFrom(0, -0, 1e-7)), currency: fc.constantFrom('EUR', 'USD', 'JPY') }),
    user: fc.record({ age: fc.integer({ min: 0, max: 150 }), gender: t(32), country: t(64), city: t(128) }, { requiredKeys: [] }),
    // Integer-like names ('1', '42') sort first in any object: both paths must agree on that too.
    properties: fc.dictionary(fc.oneof(t(64), fc.integer({ min: 0, max: 99 }).map(String)).filter((k) => k !== '__proto__'), fc.oneof(t(1024, 0), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)), { maxKeys: 64 }),
  },
  { requiredKeys: ['id', 'type', 'source', 'occurredAt'] },
);

/** Both decodes of one value, the same to the byte (deepStrictEqual ignores key order). */
function same(value: string | Uint8Array | null): Decoded {
  const untrusted = decodeEvent(value);
  const trusted = decodeEvent(value, { trusted: true });
  assert.deepStrictEqual(trusted, untrusted);
  assert.equal(JSON.stringify(trusted), JSON.stringify(untrusted), 'same key order');
  return trusted;
}

test('decodeEvent trusted - the edge\'s wire form of any valid event decodes to exactly what full validation returns', () => {
  const bytes = new TextEncoder();
  let taken = 0;
  fc.assert(
    fc.property(validInput, (input) => {
      const v = validateEvent(JSON.parse(JSON.stringify(input)));
      fc.pre(v.ok);
      const wire = encodeEvent(v.event);
      assert.ok(same(wire).ok, wire);
      same(bytes.encode(wire));
      taken++;
    }),
    { numRuns: 2_000 },
  );
  assert.ok(taken > 1_600, `only ${taken} valid events were generated`);
});

test('decodeEvent trusted - what is not shaped like the wire form gets full validation\'s verdict', () => {
  const garbage = [
    'null', '1', '"event"', 'true', '[]', '[{"id":"e","type":"t","source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}]', '{}',
    '{"type":"t","source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","type":"t","occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","type":"t","source":"s"}',
    '{"id":1,"type":"t","source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","type":null,"source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","type":"t","source":["s"],"occurredAt":"2026-12-01T10:00:00.000Z"}',
    '{"id":"e","type":"t","source":"s","occurredAt":"yesterday"}',
    '{"id":"e","type":"t","source":"s","occurredAt":null}',
    '{"id":"e","type":"t","source":"s","occurredAt":{}}',
    '{"id":"e","type":"t","source":"s","occurredAt":"0000-12-31T23:59:59.999Z"}',
    '{"id":"e","type":"t","source":"s","occurredAt":"+275760-09-13T00:00:00.000Z"}',
    // Not the wire form, but valid: numeric occurredAt goes through full validation and is taken.
    '{"id":"e","type":"t","source":"s","occurredAt":0}',
    '{"id":"e","type":"t","source":"s","occurredAt":-1}',
  ];
  for (const json of garbage) same(json);
  assert.ok(same('{"id":"e","type":"t","source":"s","occurredAt":0}').ok);
  for (const json of garbage.slice(0, -2)) assert.equal(decodeEvent(json, { trusted: true }).ok, false, json);
  // Refused before parsing or parsing, exactly as untrusted.
  for (const value of [null, '', new Uint8Array(0), '{oops', new Uint8Array([0xff, 0xfe]), new Uint8Array(256 * 1024 + 1).fill(0x20)]) same(value);
  const small = decodeEvent('{"id":"e","type":"t","source":"s","occurredAt":"2026-12-01T10:00:00.000Z"}', { trusted: true, maxBytes: 10 });
  assert.ok(!small.ok && small.reason === 'too-large');
});
