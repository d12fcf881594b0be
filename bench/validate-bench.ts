// `node --import tsx bench/validate-bench.ts [events] [rounds]`
//
// What validating one event costs a worker, measured on the bench's own events (as a
// producer writes them, and in the edge's wire form): JSON.parse + zod alone against
// JSON.parse + validateEvent (the fast path, zod for the rest), same events, same process,
// rounds interleaved so that neither side gets a warmer JIT or a quieter machine. A third line:
// the wire form decoded as trusted (a message with the edge token: decodeEvent(…, { trusted })),
// what a worker pays for an event the edge validated already.
// Rule: every side must produce the same events (checked before timing), or nothing is reported.
import assert from 'node:assert/strict';
import { decodeEvent, encodeEvent, validateEvent } from '../actors/index.ts';
import { eventSchema } from '../actors/event/schema.ts';
import { EventFactory } from './generate.ts';

const events = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 5);

const factory = new EventFactory({ seed: 1, idPrefix: 'v-', users: 10_000, zipf: 0.8, hotKeyShare: 0 });
const asSent: string[] = [];
for (let i = 0; i < events; i++) {
  const t = factory.next();
  asSent.push(`${t.head}${Date.now()}${t.tail}`);
}
const wire = asSent.map((s) => encodeEvent(eventSchema.parse(JSON.parse(s))));

function zodOnly(values: readonly string[]): unknown[] {
  return values.map((v) => eventSchema.parse(JSON.parse(v)));
}
function keyflow(values: readonly string[]): unknown[] {
  return values.map((v) => {
    const r = validateEvent(JSON.parse(v));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
    return r.event;
  });
}
function trusted(values: readonly string[]): unknown[] {
  return values.map((v) => {
    const r = decodeEvent(v, { trusted: true });
    if (!r.ok) throw new Error(r.message);
    return r.event;
  });
}

const us = (ms: number) => ((ms * 1000) / events).toFixed(2);
const label = (name: string) => `${name} (${events.toLocaleString('en-US')} events, best of ${rounds})`;
for (const [name, values] of [['as sent', asSent], ['wire form', wire]] as const) {
  const expected = zodOnly(values);
  assert.deepStrictEqual(keyflow(values), expected, `${name}: the fast path and zod disagree`);
  const wireForm = values === wire;
  if (wireForm) assert.deepStrictEqual(trusted(values), expected, 'the trusted decode and zod disagree');
  const best = { zod: Number.POSITIVE_INFINITY, fast: Number.POSITIVE_INFINITY, trusted: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    zodOnly(values);
    best.zod = Math.min(best.zod, performance.now() - t);
    t = performance.now();
    keyflow(values);
    best.fast = Math.min(best.fast, performance.now() - t);
    if (!wireForm) continue;
    t = performance.now();
    trusted(values);
    best.trusted = Math.min(best.trusted, performance.now() - t);
  }
  process.stdout.write(`${label(name)}: JSON.parse + zod ${us(best.zod)} µs/event · JSON.parse + validateEvent ${us(best.fast)} µs/event · ${(best.zod / best.fast).toFixed(2)}× faster\n`);
  if (wireForm) process.stdout.write(`${label('wire form from the edge, trusted')}: decodeEvent trusted ${us(best.trusted)} µs/event · ${(best.zod / best.trusted).toFixed(2)}× faster than zod, ${(best.fast / best.trusted).toFixed(2)}× than validateEvent\n`);
}
