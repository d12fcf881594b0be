import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEvent, decodeEvent, encodeEvent, partitionKeyOf, identityOf, MAX_EVENT_BYTES, codePointLength, retentionCutoffMs } from './index.ts';

const base = { id: 'e-1', type: 'checkout.complete', source: 'facebook', occurredAt: '2026-11-20T12:00:00Z' };

test('validateEvent - a complete event is accepted and occurredAt becomes epoch milliseconds', () => {
  const v = validateEvent({
    ...base,
    userId: 'u-42',
    sessionId: 's-1',
    funnelStage: 'bottom',
    revenue: { amount: 19.99, currency: 'USD' },
    user: { age: 25, gender: 'female', country: 'US', city: 'New York' },
    properties: { page: '/checkout', n: 3, ok: true, none: null },
  });
  assert.ok(v.ok);
  assert.equal(v.event.occurredAt, Date.parse('2026-11-20T12:00:00Z'));
});

test('validateEvent - an RFC 3339 string and epoch milliseconds name the same instant', () => {
  const a = validateEvent(base);
  const b = validateEvent({ ...base, occurredAt: Date.parse(base.occurredAt) });
  const c = validateEvent({ ...base, occurredAt: '2026-11-20T13:00:00+01:00' });
  assert.ok(a.ok && b.ok && c.ok);
  assert.equal(identityOf(a.event), identityOf(b.event));
  assert.equal(identityOf(a.event), identityOf(c.event));
});

test('validateEvent - each missing or bad field is reported by its path', () => {
  const v = validateEvent({ id: '', source: 'x'.repeat(65), occurredAt: 'yesterday', funnelStage: 'middle', revenue: { amount: 1, currency: 'usd' } });
  assert.equal(v.ok, false);
  if (v.ok) return;
  const paths = v.errors.map((e) => e.path).sort();
  assert.deepEqual(paths, ['funnelStage', 'id', 'occurredAt', 'revenue.currency', 'source', 'type']);
});

test('validateEvent - an unknown top-level field is rejected rather than dropped', () => {
  const v = validateEvent({ ...base, occured_at: 'typo' });
  assert.equal(v.ok, false);
});

test('validateEvent - more than 64 properties is rejected', () => {
  const properties = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
  assert.equal(validateEvent({ ...base, properties }).ok, false);
  const sixtyFour = Object.fromEntries(Object.entries(properties).slice(0, 64));
  assert.equal(validateEvent({ ...base, properties: sixtyFour }).ok, true);
});

test('decodeEvent - not JSON, empty and schema failures are told apart, never thrown', () => {
  assert.deepEqual(decodeEvent(null).ok, false);
  const notJson = decodeEvent(new TextEncoder().encode('{oops'));
  assert.ok(!notJson.ok && notJson.reason === 'not-json');
  const badUtf8 = decodeEvent(new Uint8Array([0xff, 0xfe]));
  assert.ok(!badUtf8.ok && badUtf8.reason === 'not-json');
  const schema = decodeEvent('{"id":"x"}');
  assert.ok(!schema.ok && schema.reason === 'schema');
});

test('validateEvent - occurredAt must be an instant PostgreSQL stores: from 0001-01-01 to 9999-12-31', () => {
  for (const at of ['0000-12-31T23:59:59.999Z', '0000-01-01T00:00:00Z']) assert.equal(validateEvent({ ...base, occurredAt: at }).ok, false, at);
  for (const at of ['0001-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '9999-12-31T23:59:59.999Z']) assert.equal(validateEvent({ ...base, occurredAt: at }).ok, true, at);
});

test('decodeEvent - a value over the size limit is refused unread as too-large, even when it is a valid event', () => {
  const huge = JSON.stringify({ ...base, properties: { pad: 'x'.repeat(1000) } });
  assert.ok(decodeEvent(huge).ok, 'under the default limit it is an event');
  const small = decodeEvent(huge, { maxBytes: 500 });
  assert.ok(!small.ok && small.reason === 'too-large');
  assert.match(small.message, /is \d+ bytes; at most 500/);
  const bytes = new Uint8Array(MAX_EVENT_BYTES + 1).fill(0x20);
  const over = decodeEvent(bytes);
  assert.ok(!over.ok && over.reason === 'too-large', 'refused before parsing (it would be blank JSON)');
  // A string is measured in UTF-8 bytes: 100,000 three-byte characters are 300,000 bytes.
  const wide = decodeEvent(`"${'€'.repeat(100_000)}"`);
  assert.ok(!wide.ok && wide.reason === 'too-large');
  assert.equal(decodeEvent(new Uint8Array(MAX_EVENT_BYTES).fill(0x20)).ok, false);
  assert.notEqual((decodeEvent(new Uint8Array(MAX_EVENT_BYTES).fill(0x20)) as { reason: string }).reason, 'too-large', 'exactly the limit is allowed');
});

test('validateEvent - an event whose wire form would exceed the size limit is refused, so whatever the edge accepts a worker takes', () => {
  // 64 properties of 1,024 control characters: valid field by field, ~400 KB once escaped.
  const properties = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`p${i}`, '\u0001'.repeat(1024)]));
  const v = validateEvent({ ...base, properties });
  assert.ok(!v.ok);
  assert.deepEqual(v.errors.map((e) => e.path), ['(event)']);
  assert.match(v.errors[0]?.message ?? '', /encodes to \d+ bytes; at most 262144/);
  const fits = validateEvent({ ...base, properties: Object.fromEntries(Object.entries(properties).slice(0, 30)) });
  assert.ok(fits.ok, 'thirty of them (~185 KB) fit');
  assert.ok(decodeEvent(encodeEvent(fits.event)).ok);
});

test('encodeEvent - decoding the encoded event gives the same event back', () => {
  const v = validateEvent({ ...base, occurredAt: 1_763_640_000_123, revenue: { amount: 5, currency: 'EUR' } });
  assert.ok(v.ok);
  const d = decodeEvent(encodeEvent(v.event));
  assert.ok(d.ok);
  assert.deepEqual(d.event, v.event);
});

test('partitionKeyOf - userId routes by default, falling back to id', () => {
  assert.equal(partitionKeyOf({ id: 'e', userId: 'u' }), 'u');
  assert.equal(partitionKeyOf({ id: 'e' }), 'e');
  assert.equal(partitionKeyOf({ id: 'e', userId: 'u' }, 'id'), 'e');
});

test('validateEvent - NUL characters and unpaired surrogates, which the store cannot hold, are rejected', () => {
  for (const bad of ['a\u0000b', 'x\ud800y', '\udc00']) {
    assert.equal(validateEvent({ ...base, type: bad }).ok, false, JSON.stringify(bad));
    assert.equal(validateEvent({ ...base, properties: { k: bad } }).ok, false);
    assert.equal(validateEvent({ ...base, properties: { [bad]: 1 } }).ok, false);
  }
  assert.equal(validateEvent({ ...base, type: 'emoji \ud83d\ude00 ok' }).ok, true);
});

test('decodeEvent - a Kafka message with a property named __proto__ is refused by name, not stored without it', () => {
  const d = decodeEvent('{"id":"e","type":"t","source":"s","occurredAt":0,"properties":{"a":1,"__proto__":{"nested":true}}}');
  assert.ok(!d.ok);
  assert.equal(d.reason, 'schema');
  assert.match(d.message, /properties\.__proto__: the property name "__proto__" is reserved/);
  assert.ok(decodeEvent('{"id":"e","type":"t","source":"s","occurredAt":0,"properties":{"constructor":1,"toString":"x"}}').ok, 'other Object.prototype names are ordinary keys');
});

test('validateEvent - lengths count code points: 128 astral characters fit an id, 129 do not', () => {
  assert.equal(codePointLength('😀'.repeat(128)), 128);
  assert.equal(codePointLength('a\ud800'), 2);
  assert.equal(validateEvent({ ...base, id: '😀'.repeat(128) }).ok, true);
  assert.equal(validateEvent({ ...base, id: '😀'.repeat(129) }).ok, false);
});

test('validateEvent - with a retention window, an event before its first whole day is refused on occurredAt', () => {
  const cutoffMs = retentionCutoffMs(Date.parse('2026-11-20T12:00:00Z'), 30);
  assert.equal(new Date(cutoffMs).toISOString(), '2026-10-21T00:00:00.000Z');
  const retention = { cutoffMs, days: 30 };
  assert.equal(validateEvent({ ...base, occurredAt: '2026-10-21T00:00:00Z' }, { retention }).ok, true);
  const old = validateEvent({ ...base, occurredAt: '2026-10-20T23:59:59.999Z' }, { retention });
  assert.ok(!old.ok);
  assert.deepEqual(old.errors.map((e) => e.path), ['occurredAt']);
  assert.equal(validateEvent({ ...base, occurredAt: '2026-10-20T23:59:59.999Z' }).ok, true, 'no window, no refusal');
});
