import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapMessage } from './map.ts';

const T = '2026-12-01T10:00:00.000Z';
const base = { messageId: 'm-1', timestamp: T };

test('map - a track message becomes an event named by its event, from the write key, with flattened properties and revenue from total', () => {
  const r = mapMessage(
    { ...base, type: 'track', event: 'Order Completed', userId: 'u-1', anonymousId: 'a-1', context: { ip: '10.0.0.1' }, properties: { total: '19.99', currency: 'eur', cart: { items: 2, skus: ['a', 'b'], empty: {} }, ok: true, none: null } },
    { source: 'web' },
  );
  assert.deepEqual(r, {
    ok: true,
    event: {
      id: 'm-1',
      type: 'Order Completed',
      source: 'web',
      occurredAt: Date.parse(T),
      userId: 'u-1',
      revenue: { amount: 19.99, currency: 'EUR' },
      properties: { total: '19.99', currency: 'eur', 'cart.items': 2, 'cart.skus': '["a","b"]', 'cart.empty': '{}', ok: true, none: null, anonymousId: 'a-1' },
    },
  });
});

test('map - revenue prefers properties.revenue, currency defaults to USD, and a message without userId is keyed by its anonymousId', () => {
  const r = mapMessage({ ...base, type: 'track', event: 'buy', anonymousId: 'anon-7', properties: { revenue: 5, total: 9 } }, { source: 's' });
  assert.ok(r.ok);
  assert.deepEqual(r.event.revenue, { amount: 5, currency: 'USD' });
  assert.equal(r.event.userId, 'anon-7');
  assert.equal(r.event.properties?.['anonymousId'], 'anon-7');
});

test('map - page and screen carry their name as a property and the call as the type; originalTimestamp stands in for timestamp', () => {
  const page = mapMessage({ messageId: 'p', originalTimestamp: T, type: 'page', name: 'Home', userId: 'u', properties: { path: '/' } }, { source: 's' });
  assert.ok(page.ok);
  assert.equal(page.event.type, 'page');
  assert.deepEqual(page.event.properties, { path: '/', name: 'Home' });
  const screen = mapMessage({ ...base, name: 'Settings', userId: 'u' }, { source: 's', call: 'screen' });
  assert.ok(screen.ok);
  assert.equal(screen.event.type, 'screen');
  assert.deepEqual(screen.event.properties, { name: 'Settings' });
});

test('map - identify traits set the profile: age, gender, address.country before country, address.city before city', () => {
  const r = mapMessage(
    { ...base, type: 'identify', userId: 'u-9', traits: { age: '31', gender: 'female', country: 'FR', city: 'Paris', address: { country: 'US', city: 'Austin' }, email: 'x@y' } },
    { source: 's' },
  );
  assert.ok(r.ok);
  assert.deepEqual(r.event.user, { age: 31, gender: 'female', country: 'US', city: 'Austin' });
  assert.equal(r.event.properties, undefined);
  const flat = mapMessage({ ...base, type: 'identify', userId: 'u-9', traits: { country: 'FR', city: 'Paris' } }, { source: 's' });
  assert.ok(flat.ok);
  assert.deepEqual(flat.event.user, { country: 'FR', city: 'Paris' });
});

test('map - what keyflow cannot take is rejected with the reason and the message\'s own field name', () => {
  const cases: [unknown, string, string][] = [
    [[1], 'not_an_object', '(message)'],
    [{ ...base, type: 'nope' }, 'unknown_type', 'type'],
    [{ timestamp: T, type: 'track', event: 'e' }, 'no_message_id', 'messageId'],
    [{ messageId: 'm', type: 'track', event: 'e' }, 'no_timestamp', 'timestamp'],
    [{ ...base, type: 'track' }, 'invalid_field', 'event'],
    [{ ...base, type: 'track', event: 'x'.repeat(65) }, 'invalid_field', 'event'],
    [{ ...base, messageId: 'm'.repeat(129), type: 'alias' }, 'invalid_field', 'messageId'],
    [{ ...base, timestamp: 'yesterday', type: 'group' }, 'invalid_field', 'timestamp'],
    [{ ...base, type: 'track', event: 'e', properties: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, { a: 1, b: 2 }])) }, 'too_many_properties', 'properties'],
    [{ ...base, type: 'track', event: 'e', properties: { revenue: 'lots' } }, 'invalid_revenue', 'properties.revenue'],
    [{ ...base, type: 'track', event: 'e', properties: { total: '0.12345678901234567' } }, 'invalid_revenue', 'properties.total'],
    [{ ...base, type: 'track', event: 'e', properties: { revenue: 1, currency: 'dollars' } }, 'invalid_field', 'properties.currency'],
    [{ ...base, type: 'identify', userId: 'u', traits: { age: 200 } }, 'invalid_field', 'traits.age'],
    [{ ...base, type: 'identify', userId: 'u', traits: { address: { city: 'c'.repeat(129) } } }, 'invalid_field', 'traits.address.city'],
    [{ ...base, type: 'track', event: 'e', userId: 'u'.repeat(129) }, 'invalid_field', 'userId'],
    [{ ...base, type: 'track', event: 'e', properties: { long: 'v'.repeat(1025) } }, 'invalid_field', 'properties.long'],
  ];
  for (const [message, reason, path] of cases) {
    const r = mapMessage(message, { source: 's' });
    assert.equal(r.ok, false, JSON.stringify(message).slice(0, 200));
    if (r.ok) continue;
    assert.equal(r.reason, reason, JSON.stringify(r.errors));
    assert.equal(r.errors[0]?.path, path, JSON.stringify(r.errors));
  }
});

test('map - an event older than the retention window is rejected as expired', () => {
  const r = mapMessage({ ...base, type: 'track', event: 'e' }, { source: 's', retention: { cutoffMs: Date.parse(T) + 1, days: 30 } });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'expired');
});

test('map - the same message maps to the same event every time (a resend is the same identity)', () => {
  const m = { ...base, type: 'track', event: 'e', userId: 'u', sentAt: '2026-12-01T10:00:05Z' };
  assert.deepEqual(mapMessage(m, { source: 's' }), mapMessage({ ...m, sentAt: '2026-12-01T11:00:00Z' }, { source: 's' }));
});

test('map - an event further ahead than KEYFLOW_MAX_FUTURE is rejected as future', () => {
  const r = mapMessage({ ...base, type: 'track', event: 'e' }, { source: 's', future: { cutoffMs: Date.parse(T) - 1, maxFutureMs: 86_400_000 } });
  assert.equal(r.ok, false);
  assert.equal(r.ok ? undefined : r.reason, 'future');
});
