// The fast path is only ever sure when zod agrees, to the byte; and it is sure of the events
// keyflow really sees, so that zod runs only for the unusual and the invalid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fastEvent } from './fast.ts';
import { eventSchema } from './schema.ts';
import { encodeEvent, validateEvent } from './validate.ts';

const MAX_MS = 253_402_300_799_999;

// Strings around every limit, and the ones keyflow refuses (NUL, lone surrogates).
const text = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: 'grapheme', minLength: 20, maxLength: 70 }),
  fc.constantFrom('', '\u0000', 'a\uD800', '\uDC00b', '😀'.repeat(64), '😀'.repeat(65), 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(64), 'x'.repeat(65), 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(1024), 'x'.repeat(1025), 'top', 'bottom', 'USD', 'usd', 'EURO'),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1.5, -1, 150, 151, 1e12, -1e12, 1e12 + 1, MAX_MS, MAX_MS + 1, 2 ** 53),
);
const instant = fc.oneof(
  number,
  fc.date({ min: new Date(-62_200_000_000_000), max: new Date(253_500_000_000_000), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-02-30T00:00:00.000Z', '2026-02-28T24:00:00.000Z', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.000+01:00', '0000-01-01T00:00:00.000Z', '2026-13-01T00:00:00.000Z', '2024-02-29T12:00:00.000Z', '2023-02-29T12:00:00.000Z'),
  text,
);
const scalar = fc.oneof(text, number, fc.boolean(), fc.constant(null));
const value = fc.oneof(scalar, fc.constant({}), fc.constant([]), fc.dictionary(fc.string({ maxLength: 3 }), scalar, { maxKeys: 2 }));
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, value);

const eventish = fc.record(
  {
    id: maybe(text),
    type: maybe(text),
    source: maybe(text),
    occurredAt: instant,
    userId: maybe(text),
    sessionId: maybe(text),
    funnelStage: maybe(fc.constantFrom('top', 'bottom', 'middle')),
    revenue: maybe(fc.record({ amount: maybe(number), currency: maybe(text), extra: value }, { requiredKeys: [] })),
    user: maybe(fc.record({ age: maybe(number), gender: maybe(text), country: maybe(text), city: maybe(text), extra: value }, { requiredKeys: [] })),
    properties: maybe(fc.dictionary(fc.oneof(text, fc.constantFrom('__proto__', 'constructor', '1', 'toString')), maybe(scalar), { maxKeys: 70 })),
    extra: value,
  },
  { requiredKeys: [] },
);

/** What a producer's JSON turns into: the input as keyflow really gets it. */
const asJson = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

function agrees(input: unknown): void {
  const fast = fastEvent(input);
  if (fast === undefined) return;
  const zod = eventSchema.safeParse(input);
  assert.ok(zod.success, `the fast path took what zod refuses: ${JSON.stringify(input)} (${zod.success ? '' : zod.error.message})`);
  assert.equal(JSON.stringify(fast), JSON.stringify(zod.data), 'same fields, values and key order');
  assert.deepStrictEqual(fast, zod.data);
}

// Valid events as producers write them: printable text within the limits, instants as
// epoch milliseconds or RFC 3339 strings.
const t = (max: number, min = 1) => fc.string({ minLength: min, maxLength: max });
const validEvent = fc.record(
  {
    id: t(128),
    type: t(64),
    source: t(64),
    occurredAt: fc.oneof(
      fc.integer({ min: 0, max: MAX_MS }),
      fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    ),
    userId: t(128),
    sessionId: t(128),
    funnelStage: fc.constantFrom('top', 'bottom'),
    revenue: fc.record({ amount: fc.double({ min: -1e12, max: 1e12, noNaN: true }), currency: fc.constantFrom('EUR', 'USD', 'JPY') }),
    user: fc.record({ age: fc.integer({ min: 0, max: 150 }), gender: t(32), country: t(64), city: t(128) }, { requiredKeys: [] }),
    properties: fc.dictionary(t(64).filter((k) => k !== '__proto__'), fc.oneof(t(1024, 0), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)), { maxKeys: 64 }),
  },
  { requiredKeys: ['id', 'type', 'source', 'occurredAt'] },
);

/** A valid event with one field (or a field of its revenue, user or properties) replaced. */
const nearValid = fc
  .tuple(validEvent, fc.constantFrom('id', 'type', 'source', 'occurredAt', 'userId', 'sessionId', 'funnelStage', 'revenue', 'user', 'properties', 'extra', 'revenue.amount', 'revenue.currency', 'revenue.extra', 'user.age', 'user.gender', 'user.country', 'user.city', 'user.extra', 'properties.k', 'properties.__proto__'), fc.oneof(value, instant))
  .map(([e, path, v]) => {
    const x = asJson(e) as Record<string, unknown>;
    const [head, leaf] = path.split('.') as [string, string | undefined];
    if (leaf === undefined) x[head] = v;
    else {
      const inner = { ...((x[head] as Record<string, unknown> | undefined) ?? {}) };
      Object.defineProperty(inner, leaf, { value: v, enumerable: true, writable: true, configurable: true });
      x[head] = inner;
    }
    return x;
  });

test('fast event path - whenever it is sure, zod agrees to the byte (random and nearly valid events around every limit)', () => {
  fc.assert(fc.property(eventish, (x) => agrees(asJson(x))), { numRuns: 10_000 });
  fc.assert(fc.property(nearValid, (x) => agrees(asJson(x))), { numRuns: 20_000 });
});

test('fast event path - takes every valid event as producers write it, and the edge\'s wire form of it', () => {
  fc.assert(
    fc.property(validEvent, (x) => {
      const input = asJson(x);
      const zod = eventSchema.parse(input);
      assert.deepStrictEqual(fastEvent(input), zod, `not taken or not equal: ${JSON.stringify(input)}`);
      // The edge produces the wire form (occurredAt canonical); workers must take it fast too.
      const wire = JSON.parse(encodeEvent(zod)) as unknown;
      assert.deepStrictEqual(fastEvent(wire), eventSchema.parse(wire));
    }),
    { numRuns: 3_000 },
  );
});

test('fast event path - refuses nothing itself: what it leaves to zod gets zod\'s verdict and errors', () => {
  const cases = [
    '{"id":"e","type":"t","source":"s","occurredAt":0,"__proto__":{"x":1}}',
    '{"id":"e","type":"t","source":"s","occurredAt":0,"properties":{"__proto__":1}}',
    '{"id":"e","type":"t","source":"s","occurredAt":"2026-12-01T10:00:00+01:00"}',
    '{"id":"e","type":"t","source":"s","occurredAt":"2026-02-30T00:00:00.000Z"}',
  ];
  for (const json of cases) {
    const input = JSON.parse(json) as unknown;
    assert.equal(fastEvent(input), undefined, json);
    const zod = eventSchema.safeParse(input);
    const v = validateEvent(input);
    assert.equal(v.ok, zod.success, json);
  }
  // Sure of an event in the wire form, with every optional field.
  const full = { id: 'e1', type: 'ad.click', source: 'web', occurredAt: '2026-12-01T10:00:00.000Z', userId: 'u', sessionId: 's', funnelStage: 'top', revenue: { amount: 9.5, currency: 'EUR' }, user: { age: 30, gender: 'f', country: 'FR', city: 'Lyon' }, properties: { a: 1, b: 'x', c: true, d: null } };
  assert.deepStrictEqual(fastEvent(full), eventSchema.parse(full));
});
