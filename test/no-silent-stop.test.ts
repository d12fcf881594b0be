// DESIGN.md's "No silent stop", against the real services: (1) a batch whose processing fails
// on every attempt (the test-only switch KEYFLOW_TEST_FAIL_BATCH) is retried with backoff,
// given up after 5 attempts and written as ONE dead letter with its first and last offsets,
// and everything after it is stored; (2) a consumer that kafkajs gives up on (a crash it will
// not restart, as with a codec it lacks) makes /readyz 503 naming the partition, is restarted
// by keyflow, and consumption resumes with /readyz 200 again and the restarts counted.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encodeEvent, validateEvent, type EventInput } from '../actors/index.ts';
import { makeEvents } from './support/events.ts';
import { eventually, getJson, postJson } from './support/http.ts';
import { metricValue, produceEvents, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { serviceUrls, testEnv } from './support/services.ts';

const running: { iso: Isolated; kf: KeyflowProcess }[] = [];
let producer: Producer | undefined;

after(async () => {
  await producer?.disconnect();
  for (const { iso, kf } of running) {
    await kf.stop('SIGTERM');
    await iso.cleanup();
  }
});

async function start(overrides: Record<string, string>): Promise<{ iso: Isolated; kf: KeyflowProcess }> {
  const iso = await isolate({ KEYFLOW_FAULTS: '1', KEYFLOW_FLUSH_INTERVAL_MS: '20', ...overrides });
  const kf = await startKeyflow(iso.env);
  running.push({ iso, kf });
  producer ??= await testProducer();
  return { iso, kf };
}

/** Produce events to partition 0 in one request (so one fetched batch); their offsets, in order. */
async function produceToPartition0(topic: string, events: readonly EventInput[]): Promise<bigint[]> {
  const messages = events.map((input) => {
    const v = validateEvent(input);
    if (!v.ok) throw new Error(`invalid test event ${JSON.stringify(input)}`);
    return { key: input.userId ?? input.id, value: encodeEvent(v.event), partition: 0 };
  });
  const [meta] = await producer!.send({ topic, acks: -1, messages });
  const base = BigInt(meta!.baseOffset!);
  return events.map((_, i) => base + BigInt(i));
}

const storedIds = async (iso: Isolated, prefix: string): Promise<Set<string>> =>
  new Set((await iso.db.sql<{ id: string }[]>`select id from events where id like ${`${prefix}%`}`).map((r) => r.id));

test('no silent stop - a batch failing on every attempt is retried, given up after 5 attempts as one dead letter with its first and last offsets, and every later event is stored', async (t) => {
  const t0 = Date.now();
  const phase = (name: string): void => t.diagnostic(`${name} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // One partition; the batch holding offset 4 fails on every attempt (test-only switch).
  const { iso, kf } = await start({ KEYFLOW_PARTITIONS: '1', KEYFLOW_WORKERS: '1', KEYFLOW_TEST_FAIL_BATCH: '0:4', KEYFLOW_BATCH_RETRY_BASE_MS: '40' });
  const first = makeEvents(10, { prefix: 'fb-a', seed: 91 });
  phase('keyflow ready');
  const offsets = await produceToPartition0(iso.topic, first);
  assert.equal(offsets[0], 0n, 'the topic is new: the first event is at offset 0');

  const letters = await eventually(
    () => iso.db.sql<{ offset: string; reason: string; error: string; raw: Buffer | null }[]>`select "offset"::text, reason, error, raw from dead_letters where reason = 'batch-failed'`,
    (rows) => rows.length > 0,
    60_000,
  );
  phase('dead letter stored');
  assert.equal(letters.length, 1, `exactly one dead letter for the batch: ${JSON.stringify(letters.map((l) => l.error))}`);
  const letter = letters[0]!;
  assert.equal(letter.offset, '4', 'the dead letter starts at the first message not processed: the switched offset');
  const m = /offsets (\d+)–(\d+) \((\d+) messages\)/.exec(letter.error);
  assert.ok(m, `the error names the offsets it covers: ${letter.error}`);
  const [lo, hi, n] = [BigInt(m[1]!), BigInt(m[2]!), Number(m[3])];
  assert.equal(lo, 4n);
  assert.ok(hi >= 4n && hi <= 9n, `last offset ${hi}`);
  assert.equal(n, Number(hi - lo) + 1);
  assert.match(letter.error, /processing failed 5 times .*KEYFLOW_TEST_FAIL_BATCH/);
  assert.deepEqual(JSON.parse(letter.raw!.toString('utf8')).id, first[4]!.id, 'the raw bytes of its first message');
  assert.match(kf.logs(), /"msg":"processing a batch failed; will retry".*"attempt":4/, 'it was retried 4 times');
  assert.equal(metricValue(await (await fetch(`${kf.url}/metrics`)).text(), 'keyflow_batch_retries_total'), 4);

  // The partition moved on: what came before and after the dead-lettered range is stored, and so is everything later.
  const later = makeEvents(20, { prefix: 'fb-b', seed: 92 });
  await produceToPartition0(iso.topic, later);
  const expected = new Set([...first.filter((_, i) => offsets[i]! < lo || offsets[i]! > hi), ...later].map((e) => e.id));
  const stored = await eventually(async () => new Set([...(await storedIds(iso, 'fb-a')), ...(await storedIds(iso, 'fb-b'))]), (s) => s.size >= expected.size, 60_000);
  phase('later events stored');
  assert.deepEqual([...stored].sort(), [...expected].sort());
  // Its offsets were committed after the dead letter: the group has no lag left.
  const lag = await eventually(() => getJson<{ totalLag: number }>(`${kf.url}/v1/admin/lag`), (r) => r.body.totalLag === 0, 30_000);
  assert.equal(lag.body.totalLag, 0);

  // A committed transaction ends with a marker that no eachBatch sees: it is committed too, so
  // the partition shows no lag (a lag left behind it would read as a stall).
  const kafka = new Kafka({ clientId: 'keyflow-test-tx', brokers: [...serviceUrls(testEnv()).kafkaBrokers], logLevel: logLevel.NOTHING });
  const tx = kafka.producer({ transactionalId: `keyflow-test-tx-${iso.topic}`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  try {
    const inTx = makeEvents(3, { prefix: 'fb-tx', seed: 95 });
    const transaction = await tx.transaction();
    await transaction.send({ topic: iso.topic, messages: inTx.map((e) => ({ key: e.userId ?? e.id, value: JSON.stringify(e), partition: 0 })) });
    await transaction.commit();
    await eventually(() => storedIds(iso, 'fb-tx'), (ids) => ids.size === inTx.length, 60_000);
  } finally {
    await tx.disconnect();
  }
  const afterTx = await eventually(() => getJson<{ totalLag: number }>(`${kf.url}/v1/admin/lag`), (r) => r.body.totalLag === 0, 30_000);
  assert.equal(afterTx.body.totalLag, 0, `the transaction marker is committed as well: ${JSON.stringify(afterTx.body)}\n${kf.logs().split('\n').filter((l) => /batch|commit|offset/i.test(l)).slice(-15).join('\n')}`);
});

test('no silent stop - a consumer kafkajs gives up on makes /readyz 503 naming the partition, is restarted, and consumption resumes with /readyz 200', async () => {
  const { iso, kf } = await start({ KEYFLOW_PARTITIONS: '2', KEYFLOW_WORKERS: '1', KEYFLOW_STALL_MS: '1000' });
  const warmup = makeEvents(50, { prefix: 'cc-a', seed: 93 });
  await produceEvents(producer!, iso.topic, warmup);
  await eventually(() => storedIds(iso, 'cc-a'), (s) => s.size === warmup.length, 60_000);
  const ready = await eventually(() => getJson(`${kf.url}/readyz`), (r) => r.status === 200, 30_000);
  assert.equal(ready.status, 200, JSON.stringify(ready.body));
  const metrics = async (): Promise<string> => (await fetch(`${kf.url}/metrics`)).text();
  const restartsBefore = metricValue(await metrics(), 'keyflow_consumer_restarts_total');

  // The consumer crashes as kafkajs does on an error it will not retry (restart: false), on the next 3 batches.
  const fault = await postJson(`${kf.url}/v1/admin/faults/workers/0/consumer-crash?count=3`, {});
  assert.equal(fault.status, 202, JSON.stringify(fault.body));
  const during = makeEvents(100, { prefix: 'cc-b', seed: 94 });
  await produceEvents(producer!, iso.topic, during);

  const unready = await eventually(() => getJson<{ error: { message: string }; checks: Record<string, { ok: boolean; detail?: string }> }>(`${kf.url}/readyz`), (r) => r.status === 503 && r.body.checks['partitions']?.ok === false, 60_000, 50);
  assert.equal(unready.status, 503, `readiness while the consumer is down: ${JSON.stringify(unready.body)}`);
  assert.equal(unready.body.checks['partitions']?.ok, false);
  assert.match(unready.body.error.message, /partitions \(partition \d stalled: (no owner|lag \d+ and no progress)/);

  const stored = await eventually(() => storedIds(iso, 'cc-b'), (s) => s.size === during.length, 90_000);
  assert.equal(stored.size, during.length, 'consumption resumed: every event produced during the crashes is stored');
  const back = await eventually(() => getJson(`${kf.url}/readyz`), (r) => r.status === 200, 60_000);
  assert.equal(back.status, 200, JSON.stringify(back.body));
  const text = await metrics();
  const story = kf.logs().split('\n').filter((l) => /consumer|restart|fault/i.test(l)).join('\n');
  assert.ok(metricValue(text, 'keyflow_consumer_restarts_total') - restartsBefore >= 3, `each crash was followed by a restart, counted:\n${text.split('\n').filter((l) => l.startsWith('keyflow_consumer_restarts_total')).join('\n')}\n${story}`);
  assert.match(text, /keyflow_consumer_restarts_total\{by="keyflow"\} [3-9]/);
  assert.match(text, /keyflow_partition_stalled\{partition="1"\} 0/, 'the stalled gauge has a series per partition, 0 once consumption resumed');
  assert.match(kf.logs(), /"msg":"consumer crashed".*"restart":false/);
});
