// `node --import tsx bench/validate-bench.ts [events] [rounds]`
//
// What validating one event costs a worker, measured on the bench's own events (as a
// producer writes them, and in the edge's wire form): JSON.parse + zod alone against
// JSON.parse + validateEvent (the fast path, zod for the rest), same events, same process,
// rounds interleaved so that neither side gets a warmer JIT or a quieter machine.
// Rule: both sides must produce the same events (checked before timing), or nothing is reported.
import assert from 'node:assert/strict';
import { encodeEvent, validateEvent } from '../actors/index.ts';
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

for (const [name, values] of [['as sent', asSent], ['wire form', wire]] as const) {
  assert.deepStrictEqual(keyflow(values), zodOnly(values), `${name}: the fast path and zod disagree`);
  const best = { zod: Number.POSITIVE_INFINITY, fast: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    zodOnly(values);
    best.zod = Math.min(best.zod, performance.now() - t);
    t = performance.now();
    keyflow(values);
    best.fast = Math.min(best.fast, performance.now() - t);
  }
  const us = (ms: number) => ((ms * 1000) / values.length).toFixed(2);
  process.stdout.write(`${name} (${values.length.toLocaleString('en-US')} events, best of ${rounds}): JSON.parse + zod ${us(best.zod)} µs/event · JSON.parse + validateEvent ${us(best.fast)} µs/event · ${(best.zod / best.fast).toFixed(2)}× faster\n`);
}
