import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsumerRestarter } from './consumer-restart.ts';

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await sleep(5);
  }
}

test('consumer restart - a crashed consumer is started again, and again while its start fails, with growing waits', async () => {
  const waits: number[] = [];
  let starts = 0;
  const r = new ConsumerRestarter({
    start: async () => {
      starts++;
      if (starts < 3) throw new Error('broker not there');
    },
    live: () => true,
    onRestart: (_attempt, waited) => waits.push(waited),
    onFailed: () => undefined,
    backoff: { baseMs: 4, maxMs: 30 },
  });
  r.crashed();
  r.crashed(); // the same crash reported twice schedules one restart
  await until('three starts', () => starts === 3 && !r.restarting);
  assert.equal(waits.length, 3);
  assert.ok(waits[0]! >= 2 && waits[0]! < 4 && waits[2]! >= 8 && waits[2]! < 16, `waits ${waits.join(', ')}`);
  // A crash after progress starts from the shortest wait again.
  r.progressed();
  r.crashed();
  await until('a fourth start', () => starts === 4 && !r.restarting);
  assert.ok(waits[3]! < 4, `wait after progress ${waits[3]}`);
  r.stop();
});

test('consumer restart - a crash during a restart schedules the next one; a stopped worker restarts nothing', async () => {
  let starts = 0;
  let crashDuringStart = true;
  const r: ConsumerRestarter = new ConsumerRestarter({
    start: async () => {
      starts++;
      if (crashDuringStart) {
        crashDuringStart = false;
        r.crashed();
      }
    },
    live: () => true,
    onRestart: () => undefined,
    onFailed: () => undefined,
    backoff: { baseMs: 2, maxMs: 4 },
  });
  r.crashed();
  await until('two starts', () => starts === 2 && !r.restarting);
  r.stop();
  r.crashed();
  await sleep(20);
  assert.equal(starts, 2);
});
