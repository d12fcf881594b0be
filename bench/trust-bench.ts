// `node --import tsx bench/trust-bench.ts [messages] [rounds]`
//
// What signed messages cost (runtime/kafka/trust.ts): the edge's sign per message, and a
// worker's verify + trusted decode of an edge event, against the full validation it replaces,
// for one typical event, same process, rounds interleaved. Prints medians in µs per message.
// Rule: the verify must succeed and every decode must give the same event, or nothing is reported.
import assert from 'node:assert/strict';
import { decodeEvent } from '../actors/index.ts';
import { MessageTrust, SIGNATURE_HEADER } from '../runtime/kafka/index.ts';

const n = Number(process.argv[2] ?? 50_000);
const rounds = Number(process.argv[3] ?? 5);
const trust = new MessageTrust('a-shared-edge-token-0123456789');
const text = JSON.stringify({ id: '3f7c6a1e-0000-4000-8000-000000000001', type: 'checkout.complete', source: 'facebook', occurredAt: '2026-11-20T12:00:00.000Z', userId: 'u-42', sessionId: 's-1',
  revenue: { amount: 19.99, currency: 'USD' }, user: { age: 25, country: 'US', city: 'New York' }, properties: { page: '/checkout', ref: 'newsfeed' } });
const value = Buffer.from(text);
const key = Buffer.from('u-42');
const headers = { [SIGNATURE_HEADER]: Buffer.from(trust.sign('u-42', text, { event: true })) };
assert.ok(trust.verify(headers, key, value, { event: true }));
assert.deepEqual(decodeEvent(value, { trusted: true }), decodeEvent(value));

const sides: Record<string, () => unknown> = {
  'sign (edge)': () => trust.sign('u-42', text, { event: true }),
  'decode trusted, no verify': () => decodeEvent(value, { trusted: true }),
  'verify + decode trusted (worker)': () => decodeEvent(value, { trusted: trust.verify(headers, key, value, { event: true }) }),
  'full validation (worker, unsigned)': () => decodeEvent(value),
};
const times: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [name, f] of Object.entries(sides)) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    times[name]!.push(Number(process.hrtime.bigint() - t) / n / 1000);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`${value.length}-byte event, ${n} messages × ${rounds} rounds (median µs/message):`);
for (const name of Object.keys(sides)) console.log(`  ${name.padEnd(36)} ${median(times[name]!).toFixed(2)}`);
