import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { processWithRetry, type BatchDeadLetter, type BatchRetryOptions } from './batch-retry.ts';

const message = (offset: number): KafkaMessage => ({ offset: String(offset), key: Buffer.from(`k${offset}`), value: Buffer.from(`v${offset}`), timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage;

/** A fetched batch of offsets from..to as kafkajs hands it to eachBatch, recording what is resolved and each heartbeat. */
function batchOf(from: number, to: number) {
  const resolved: string[] = [];
  let heartbeats = 0;
  const messages = Array.from({ length: to - from + 1 }, (_, i) => message(from + i));
  const payload = {
    batch: { topic: 't', partition: 3, messages },
    resolveOffset: (o: string) => void resolved.push(o),
    heartbeat: async () => void heartbeats++,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload, resolved, heartbeats: () => heartbeats };
}

function options(letters: BatchDeadLetter[], retries: number[], extra: Partial<BatchRetryOptions> = {}): BatchRetryOptions {
  return { baseMs: 1, live: () => true, onRebalancing: async () => undefined, onRetry: (_e, attempt) => void retries.push(attempt), deadLetter: (l) => void letters.push(l), ...extra };
}

test('batch retry - a batch that fails twice is retried from its first unresolved message and then goes through', async () => {
  const { payload, resolved } = batchOf(10, 13);
  const letters: BatchDeadLetter[] = [];
  const retries: number[] = [];
  const seen: string[][] = [];
  let calls = 0;
  await processWithRetry(payload, async (view, resolve) => {
    seen.push(view.messages.map((m) => m.offset));
    resolve(view.messages[0]!.offset);
    if (++calls < 3) throw new Error('store hiccup');
    for (const m of view.messages.slice(1)) resolve(m.offset);
  }, options(letters, retries));
  assert.deepEqual(seen, [['10', '11', '12', '13'], ['11', '12', '13'], ['12', '13']]);
  assert.deepEqual(retries, [1, 2]);
  assert.deepEqual(letters, []);
  assert.equal(resolved.at(-1), '13');
});

test('batch retry - after 5 failed attempts the remaining messages are one dead letter with their first and last offsets, then resolved', async () => {
  const { payload, resolved } = batchOf(20, 24);
  const letters: BatchDeadLetter[] = [];
  const retries: number[] = [];
  await processWithRetry(payload, async (view, resolve) => {
    if (view.messages[0]!.offset === '20') resolve('20');
    throw new Error('always broken');
  }, options(letters, retries));
  assert.deepEqual(retries, [1, 2, 3, 4]);
  assert.equal(letters.length, 1);
  const l = letters[0]!;
  assert.deepEqual({ offset: l.offset, lastOffset: l.lastOffset, messages: l.messages, reason: l.reason, raw: l.raw?.toString(), key: l.key?.toString() }, { offset: '21', lastOffset: '24', messages: 4, reason: 'batch-failed', raw: 'v21', key: 'k21' });
  assert.equal(l.error, 'processing failed 5 times (last: always broken); offsets 21–24 (4 messages)');
  assert.deepEqual(resolved, ['20', '24']);
});

test('batch retry - the test switch fails the batch at its offset: what precedes it is processed, the rest is dead-lettered', async () => {
  const { payload, resolved } = batchOf(0, 5);
  const letters: BatchDeadLetter[] = [];
  await processWithRetry(payload, async (view, resolve) => {
    for (const m of view.messages) resolve(m.offset);
  }, options(letters, [], { failSwitch: { partition: 3, offset: '2' } }));
  assert.deepEqual(letters.map((l) => [l.offset, l.lastOffset, l.messages]), [['2', '5', 4]]);
  assert.match(letters[0]!.error, /KEYFLOW_TEST_FAIL_BATCH/);
  assert.deepEqual(resolved, ['0', '1', '5']);
});

test('batch retry - errors of kafkajs are not retried here, and a drain ends the retries without a dead letter', async () => {
  const { payload } = batchOf(0, 1);
  const kafkaError = Object.assign(new Error('coordinator moved'), { name: 'KafkaJSProtocolError' });
  await assert.rejects(processWithRetry(payload, async () => { throw kafkaError; }, options([], [])), /coordinator moved/);
  const letters: BatchDeadLetter[] = [];
  let live = true;
  await processWithRetry(batchOf(0, 1).payload, async () => {
    live = false;
    throw new Error('broken');
  }, options(letters, [], { live: () => live }));
  assert.deepEqual(letters, []);
});

test('batch retry - records after the last message (a transaction marker) are taken in once every message is', async () => {
  const { payload, resolved } = batchOf(0, 2);
  (payload.batch as unknown as { lastOffset: () => string }).lastOffset = () => '3';
  const skipped: string[] = [];
  await processWithRetry(payload, async (view, resolve) => {
    for (const m of view.messages) resolve(m.offset);
  }, options([], [], { skipped: (o) => void skipped.push(o) }));
  assert.deepEqual(skipped, ['3']);
  assert.deepEqual(resolved, ['0', '1', '2', '3']);
});
