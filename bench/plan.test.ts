import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventFactory, HOT_KEY, ZipfSampler } from './generate.ts';
import { Plan } from './plan.ts';
import { validateEvent } from '../actors/index.ts';
import { prng } from '../test/support/events.ts';

const factory = (o: Partial<ConstructorParameters<typeof EventFactory>[0]> = {}) =>
  new EventFactory({ seed: 3, idPrefix: 't-main-', users: 1000, zipf: 0.8, hotKeyShare: 0, now: () => 1_800_000_000_000, ...o });

test('generate - every event is valid for keyflow and carries its send time last in properties', () => {
  const f = factory();
  for (let i = 0; i < 2000; i++) {
    const t = f.next();
    const json = `${t.head}1700000000123${t.tail}`;
    const v = validateEvent(JSON.parse(json));
    assert.ok(v.ok, json);
    assert.equal(v.event.id, `t-main-${i}`);
    assert.equal(v.event.userId, t.key);
    assert.equal(v.event.properties?.['sentAt'], 1700000000123);
  }
});

test('generate - the same seed gives the same events', () => {
  const a = factory();
  const b = factory();
  for (let i = 0; i < 100; i++) assert.deepEqual(a.next(), b.next());
});

test('generate - Zipf skews users as its exponent says, and the hot key takes its share', () => {
  const z = new ZipfSampler(1000, 1, prng(9));
  const counts = new Array<number>(1000).fill(0);
  for (let i = 0; i < 100_000; i++) counts[z.next()]!++;
  assert.ok(Math.abs(counts[0]! / 100_000 - z.p(0)) < 0.01, `rank 1 drawn ${counts[0]} times, p=${z.p(0)}`);
  assert.ok(counts[0]! > 5 * counts[9]!, 'rank 1 is drawn far more often than rank 10');
  const f = factory({ hotKeyShare: 0.3 });
  let hot = 0;
  for (let i = 0; i < 10_000; i++) if (f.next().key === HOT_KEY) hot++;
  assert.ok(hot > 2700 && hot < 3300, `hot key carried ${hot} of 10,000`);
});

test('plan - resends repeat an earlier payload byte for byte, after it, and distinct counts only originals', () => {
  const plan = new Plan({ factory: factory(), events: 5000, dupRatio: 0.1, seed: 3, maxResendDelay: 300 }).prepare();
  const seen = new Map<string, string>();
  let resends = 0;
  let t = 0;
  while (!plan.done) {
    for (const m of plan.take(700, ++t)) {
      const id = /"id":"([^"]+)"/.exec(m.value)?.[1] ?? '';
      const before = seen.get(id);
      if (before === undefined) seen.set(id, m.value);
      else {
        assert.equal(m.value, before, 'a resend is the earlier payload, same sentAt');
        resends++;
      }
    }
  }
  assert.equal(plan.distinct, 5000);
  assert.equal(seen.size, 5000, 'every distinct event sent once with one payload');
  assert.equal(plan.resends, resends);
  assert.ok(resends > 400 && resends < 600, `about 10% resent, got ${resends}`);
  assert.equal(plan.taken, 5000 + resends);
});
