import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateEvent, decodeEvent, encodeEvent, partitionKeyOf, identityOf } from './index.ts';

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
