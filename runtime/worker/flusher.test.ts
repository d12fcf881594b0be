import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeadLetterRow } from '../../db/index.ts';
import { Flusher, type FlushBatch, type FlusherOptions, type RetryInfo } from './flusher.ts';
import { OffsetLedger } from './offset-ledger.ts';
import { deferred } from '../../test/support/async.ts';

/** Pending events as the actor registry holds them: here, plain strings. */
class Events {
  items: string[] = [];
  drain(): string[] {
    const out = this.items;
    this.items = [];
    return out;
  }
  get pendingCount(): number {
    return this.items.length;
  }
}


const deadLetter = (offset: string): DeadLetterRow => ({ topic: 't', partition: 0, offset, key: null, raw: null, reason: 'not-json', error: 'x' });

type Setup = {
  flusher: Flusher<string, number>;
  events: Events;
  ledger: OffsetLedger;
  stored: FlushBatch<string>[];
  settled: FlushBatch<string>[];
  retries: RetryInfo[];
  clock: { now: number };
  take: (partition: number, offset: string, event?: string) => void;
};

/** A flusher whose store is `store` (by default it stores everything), on a clock the test moves. */
function setup(store?: (batch: FlushBatch<string>) => Promise<number>, options: Partial<FlusherOptions<string, number>> = {}): Setup {
  const events = new Events();
  const ledger = new OffsetLedger();
  ledger.assign([0]);
  const stored: FlushBatch<string>[] = [];
  const settled: FlushBatch<string>[] = [];
  const retries: RetryInfo[] = [];
  const clock = { now: 1_000 };
  const flusher = new Flusher<string, number>({
    events,
    ledger,
    intervalMs: 100,
    maxEvents: 3,
    deadLetterMaxBytes: 4,
    store: async (b) => {
      stored.push(b);
      return store === undefined ? b.entries.length : store(b);
    },
    settle: async (b) => void settled.push(b),
    onRetry: (_, r) => void retries.push(r),
    now: () => clock.now,
    random: () => 0,
    ...options,
  });
  const take = (partition: number, offset: string, event?: string): void => {
    if (event !== undefined) events.items.push(event);
    flusher.consumed(partition, offset);
  };
  return { flusher, events, ledger, stored, settled, retries, clock, take };
}

test('flusher - one flush takes every pending event, dead letter and offset together, then settles', async () => {
  const s = setup();
  s.take(0, '1', 'a');
  s.take(0, '2');
  s.flusher.deadLetter(deadLetter('2'));
  s.take(0, '3', 'b');
  await s.flusher.flush();
  assert.equal(s.stored.length, 1);
  assert.deepEqual(s.stored[0]!.entries, ['a', 'b']);
  assert.deepEqual(s.stored[0]!.deadLetters.map((d) => d.offset), ['2']);
  assert.deepEqual([...s.stored[0]!.offsets.offsets], [[0, '3']]);
  assert.deepEqual(s.settled, s.stored);
  assert.equal(s.flusher.pending, 0);
  assert.equal(s.flusher.settled, true);
});

test('flusher - a failed store keeps its batch: the retry stores the same events with what came since, after the backoff', async () => {
  let fail = true;
  const s = setup(async (b) => {
    if (fail) throw new Error('connection refused');
    return b.entries.length;
  });
  s.take(0, '1', 'a');
  s.take(0, '2', 'b');
  await s.flusher.flush(); // resolves: a failed store is not a rejection
  assert.equal(s.settled.length, 0);
  assert.deepEqual(s.retries, [{ events: 2, failures: 1, retryInMs: 100 }]); // backoffMs(2, 100..5000 ms) at the lowest jitter
  assert.equal(s.flusher.pending, 2, 'the kept batch is still pending');
  assert.equal(s.flusher.retryEvents, 2);
  assert.equal(s.flusher.settled, false);

  s.take(0, '3', 'c');
  s.clock.now += 99;
  s.flusher.tick();
  assert.equal(s.stored.length, 1, 'not before the retry time');
  await s.flusher.flush(); // a flush asked for explicitly retries at once
  assert.deepEqual(s.retries.map((r) => [r.failures, r.retryInMs]), [[1, 100], [2, 200]], 'the backoff grows with each failure');
  assert.deepEqual(s.stored[1]!.entries, ['a', 'b', 'c']);

  fail = false;
  s.clock.now += 200;
  s.flusher.tick();
  await s.flusher.flush();
  assert.deepEqual(s.settled.map((b) => b.entries), [['a', 'b', 'c']]);
  assert.deepEqual([...s.settled[0]!.offsets.offsets], [[0, '3']], 'the retry commits the newest offsets');
  assert.equal(s.flusher.retryEvents, undefined);
  assert.equal(s.flusher.pending, 0);

  // Success reset the failure count: the next failure is the first again.
  fail = true;
  s.take(0, '4', 'd');
  await s.flusher.flush();
  assert.deepEqual(s.retries.at(-1), { events: 1, failures: 1, retryInMs: 100 });
});

test('flusher - what an attempt holds still counts as pending until it is stored', async () => {
  const held = deferred<number>();
  const s = setup(() => held.promise);
  s.take(0, '1', 'a');
  s.take(0, '2', 'b');
  s.flusher.deadLetter(deadLetter('2'));
  const flushed = s.flusher.flush();
  assert.equal(s.events.pendingCount, 0, 'the registry was drained…');
  assert.equal(s.flusher.pending, 3, '…but the attempt holds two events and a dead letter');
  assert.equal(s.flusher.allStored, false);
  s.take(0, '3', 'c');
  assert.equal(s.flusher.pending, 4);
  held.resolve(2);
  await flushed;
  assert.equal(s.flusher.pending, 1, 'c, taken in during the attempt, waits for the next flush');
  await s.flusher.flush();
  assert.equal(s.flusher.pending, 0);
  assert.equal(s.flusher.allStored, true);
});

test('flusher - a flush asked for during a flush shares its promise and runs once more right after it', async () => {
  const gates = [deferred<number>(), deferred<number>()];
  let attempts = 0;
  const s = setup(() => gates[attempts++]!.promise);
  s.take(0, '1', 'a');
  const first = s.flusher.flush();
  s.take(0, '2', 'b');
  const second = s.flusher.flush();
  const third = s.flusher.flush();
  assert.equal(second, first);
  assert.equal(third, first);
  gates[0]!.resolve(1);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.stored.length, 2, 'one more attempt, not two');
  assert.deepEqual(s.stored[1]!.entries, ['b']);
  gates[1]!.resolve(1);
  await first;
  assert.equal(s.stored.length, 2);
  assert.equal(s.flusher.flushing, false);
});

test('flusher - a flush asked for during a flush that took everything does not run again', async () => {
  const held = deferred<number>();
  let calls = 0;
  const told: string[] = [];
  const s = setup(() => (calls++ === 0 ? held.promise : Promise.resolve(0)), { afterFlush: () => void told.push('after') });
  s.take(0, '1', 'a');
  const first = s.flusher.flush();
  void s.flusher.flush();
  held.resolve(1);
  await first;
  assert.equal(s.stored.length, 1);
  assert.deepEqual(told, ['after'], 'afterFlush once, when the loop ended with everything stored');
});

test('flusher - afterFlush is not told when the store failed', async () => {
  const told: string[] = [];
  const s = setup(async () => {
    throw new Error('down');
  }, { afterFlush: () => void told.push('after') });
  s.take(0, '1', 'a');
  await s.flusher.flush();
  assert.deepEqual(told, []);
});

test('flusher - nothing new and every offset committed: no attempt at all; an uncommitted offset alone is flushed', async () => {
  const s = setup(undefined, {
    settle: async (b) => {
      await s.ledger.commit(b.offsets, async () => undefined);
    },
  });
  await s.flusher.flush();
  assert.equal(s.stored.length, 0);
  s.take(0, '7'); // e.g. a command: an offset with no event
  await s.flusher.flush();
  assert.equal(s.stored.length, 1);
  assert.deepEqual(s.stored[0]!.entries, []);
  assert.equal(s.ledger.committed(0), '7');
  await s.flusher.flush();
  assert.equal(s.stored.length, 1, 'committed: nothing to do');
});

test('flusher - age trigger: due intervalMs after the oldest work was taken in; size trigger: flushIfFull at maxEvents', async () => {
  const s = setup();
  s.take(0, '1', 'a');
  s.clock.now += 50;
  s.take(0, '2', 'b');
  s.clock.now += 49;
  s.flusher.tick();
  assert.equal(s.stored.length, 0, '99 ms after the oldest');
  s.clock.now += 1;
  s.flusher.tick();
  await s.flusher.flush();
  assert.deepEqual(s.stored.map((b) => b.entries), [['a', 'b']]);

  s.take(0, '3', 'c');
  s.take(0, '4', 'd');
  s.flusher.flushIfFull();
  assert.equal(s.flusher.flushing, false, '2 of 3');
  s.take(0, '5', 'e');
  s.flusher.flushIfFull();
  assert.equal(s.flusher.flushing, true, '3 of 3');
  await s.flusher.flush();
  assert.deepEqual(s.stored.map((b) => b.entries), [['a', 'b'], ['c', 'd', 'e']]);
});

test('flusher - drain flushes until everything is stored, waiting for each retry', async () => {
  let failures = 2;
  const s = setup(async (b) => {
    if (failures-- > 0) throw new Error('down');
    return b.entries.length;
  }, { now: Date.now, backoff: { baseMs: 5, maxMs: 10 } });
  s.take(0, '1', 'a');
  await s.flusher.drain(AbortSignal.timeout(5_000));
  assert.equal(s.flusher.settled, true);
  assert.equal(s.stored.length, 3);
  assert.deepEqual(s.settled.map((b) => b.entries), [['a']]);
});

test('flusher - drain gives up at its signal and leaves the batch for redelivery', async () => {
  const s = setup(async () => {
    throw new Error('down');
  }, { now: Date.now, backoff: { baseMs: 20, maxMs: 20 } });
  s.take(0, '1', 'a');
  const started = Date.now();
  await s.flusher.drain(AbortSignal.timeout(150));
  const ms = Date.now() - started;
  assert.ok(ms >= 140 && ms < 1_000, `drain took ${ms} ms`);
  assert.equal(s.flusher.settled, false);
  assert.equal(s.flusher.retryEvents, 1);
  assert.ok(s.stored.length >= 3, `retried while it could (${s.stored.length} attempts)`);
  // An aborted signal: not even one more attempt.
  const attempts = s.stored.length;
  await s.flusher.drain(AbortSignal.abort());
  assert.equal(s.stored.length, attempts);
});

test('flusher - a rejection of settle is not a failed store: the batch is not retried', async () => {
  const s = setup(undefined, {
    settle: async () => {
      throw new Error('bug');
    },
  });
  s.take(0, '1', 'a');
  await assert.rejects(s.flusher.flush(), /bug/);
  assert.equal(s.flusher.retryEvents, undefined);
  assert.equal(s.flusher.flushing, false);
});

test('flusher - a dead letter keeps deadLetterMaxBytes of its raw value, its full length and SHA-256, and its last offset', async () => {
  const s = setup();
  s.take(0, '5');
  s.flusher.deadLetter({ ...deadLetter('5'), raw: new TextEncoder().encode('not json at all'), lastOffset: '9' });
  await s.flusher.flush();
  const [row] = s.stored[0]!.deadLetters;
  assert.equal(Buffer.from(row!.raw!).toString(), 'not ');
  assert.deepEqual({ length: row!.rawLength, sha: row!.rawSha256?.byteLength, last: row!.lastOffset }, { length: 15, sha: 32, last: '9' });
});

test('flusher - pendingBytes counts events and dead letters taken in until stored, a failed attempt\'s included, and flushIfFull flushes on bytes', async () => {
  let fail = true;
  const s = setup(async (b) => {
    if (fail) throw new Error('store down');
    return b.entries.length;
  }, { maxBytes: 1_000 });
  s.take(0, '1', 'a');
  s.flusher.added(600);
  assert.equal(s.flusher.pendingBytes, 600);
  s.flusher.flushIfFull();
  assert.equal(s.stored.length, 0, 'under maxBytes and maxEvents: no flush');
  s.take(0, '2');
  s.flusher.deadLetter({ ...deadLetter('2'), raw: new Uint8Array(300) });
  const withDead = s.flusher.pendingBytes;
  assert.ok(withDead >= 600 + 4 + 256, `a dead letter weighs its kept bytes and its row (${withDead})`);
  s.flusher.flushIfFull();
  await s.flusher.flush();
  assert.equal(s.stored.length, 1, 'over maxBytes: flushed');
  assert.equal(s.stored[0]!.bytes, withDead);
  assert.equal(s.flusher.pendingBytes, withDead, 'a failed batch still weighs');
  fail = false;
  s.clock.now += 10_000;
  await s.flusher.flush();
  assert.equal(s.flusher.pendingBytes, 0);
});
