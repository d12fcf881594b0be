// Issue 19, points 1 and 2 (DESIGN.md, Guarantees, "Every producer works"): keyflow consumes
// what real producers write. kcat (librdkafka) and the official Java client produce straight
// to the topic with every compression codec; the Java client also idempotently and in
// transactions, one committed and one aborted. Every committed event is stored and counted
// once, nothing of the aborted transaction is; keyless and mis-keyed messages are re-produced
// keyed by their user and an erasure right after them erases them; tombstones, junk and a
// record batch that cannot be decompressed are dead-lettered and the partition goes on.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import kafkajs, { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { compressFrameSync } from 'lz4-napi';
import { ensureProducerTools, javaProducer, loadSettings, type JavaProducer } from '../compose/local/index.ts';
import { partitionOf } from '../runtime/kafka/index.ts';
import { eventually, getJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { serviceUrls } from './support/services.ts';

let iso: Isolated;
let kf: KeyflowProcess;
let kcat: string;
let java: JavaProducer;
const broker = serviceUrls().kafkaBrokers[0] as string;
const tag = randomBytes(3).toString('hex');
/** Every event of this file occurred a minute ago: inside the reports' default window. */
const occurredAt = Date.now() - 60_000;
const codecNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const PARTITIONS = 4;

before(async () => {
  iso = await isolate({ KEYFLOW_WORKERS: '2', KEYFLOW_PARTITIONS: String(PARTITIONS) });
  [kf, kcat, java] = await Promise.all([startKeyflow(iso.env), ensureProducerTools(), javaProducer(loadSettings(process.env))]);
});

after(async () => {
  const stopped = await kf?.stop('SIGTERM');
  await iso?.cleanup();
  assert.equal(stopped?.code, 0);
});

const event = (id: string, source: string, userId: string): string => JSON.stringify({ id: `${tag}-${id}`, type: 'producer.test', source, occurredAt, userId });

/** Run a command with `input` on stdin; reject with its stderr when it fails. */
function runWith(command: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

/** kcat -P: `KEY|VALUE` lines when keyed, bare values otherwise (no key); `-Z`: an empty value is a tombstone; `-p`: that partition. */
const kcatProduce = (codec: string, lines: readonly string[], opts: { keyed: boolean; nullEmpty?: boolean; partition?: number } = { keyed: true }): Promise<string> =>
  runWith(
    kcat,
    ['-P', '-b', broker, '-t', iso.topic, '-z', codec, ...(opts.keyed ? ['-K', '|'] : []), ...(opts.nullEmpty === true ? ['-Z'] : []), ...(opts.partition === undefined ? [] : ['-p', String(opts.partition)])],
    `${lines.join('\n')}\n`,
  );

const storedCount = async (source: string): Promise<number> =>
  Number((await iso.db.sql<{ n: string }[]>`select count(*) as n from events where source = ${source} and id like ${`${tag}-%`}`)[0]?.n);
const reportTotal = async (source: string): Promise<number> => (await getJson<{ total: number }>(`${kf.url}/v1/reports/events?source=${encodeURIComponent(source)}`)).body.total;

/** Wait until every source holds its expected number of rows; then each is counted exactly that often. */
async function assertStoredOnce(expected: Readonly<Record<string, number>>, timeoutMs = 60_000): Promise<void> {
  const sources = Object.keys(expected);
  const counts = await eventually(() => Promise.all(sources.map(storedCount)), (c) => c.every((n, i) => n >= (expected[sources[i] as string] as number)), timeoutMs);
  assert.deepEqual(Object.fromEntries(sources.map((s, i) => [s, counts[i]])), expected);
  assert.deepEqual(Object.fromEntries(await Promise.all(sources.map(async (s) => [s, await reportTotal(s)]))), expected);
}

const lines = (source: string, n: number, users: number): string[] => Array.from({ length: n }, (_, i) => `${source}-u${i % users}|${event(`${source}-${i}`, source, `${source}-u${i % users}`)}`);

test('producers - kcat (librdkafka) with -z none, gzip, snappy, lz4 and zstd: every event stored and counted once', async () => {
  await Promise.all(codecNames.map((codec) => kcatProduce(codec, lines(`kcat-${codec}`, 30, 6))));
  await assertStoredOnce(Object.fromEntries(codecNames.map((codec) => [`kcat-${codec}`, 30])));
});

test('producers - the Java client, idempotent with every compression.type, and transactions: committed stored once, aborted never', async () => {
  const script: string[] = [];
  const expected: Record<string, number> = {};
  for (const codec of codecNames) {
    const source = `java-${codec}`;
    script.push(`#producer ${codec}`, ...lines(source, 30, 6));
    expected[source] = 30;
  }
  // The aborted transaction's users get committed events after it: once those are stored,
  // the consumer has read past the aborted records in every partition they are in.
  script.push(`#producer zstd keyflow-test-${tag}`);
  script.push('#begin', ...lines('java-txn-commit', 20, 4), '#commit');
  script.push('#begin', ...lines('java-txn-abort', 20, 4).map((l) => l.replaceAll('java-txn-abort-u', 'java-txn-commit-u')), '#abort');
  script.push('#begin', ...lines('java-txn-after', 8, 4).map((l) => l.replaceAll('java-txn-after-u', 'java-txn-commit-u')), '#commit');
  expected['java-txn-commit'] = 20;
  expected['java-txn-after'] = 8;
  const out = await runWith(java.java, ['-cp', java.classpath, java.mainClass, broker, iso.topic], `${script.join('\n')}\n`);
  assert.match(out, /sent 198/);
  await assertStoredOnce(expected);
  assert.equal(await storedCount('java-txn-abort'), 0);
  assert.equal(await reportTotal('java-txn-abort'), 0);
});

test('producers - a keyless message and one keyed by something else are re-produced keyed by their user; an erasure right after them erases them', async () => {
  const stored = (user: string, n: number) => eventually(() => iso.db.sql<{ id: string }[]>`select id from events where user_id = ${user} order by id`, (r) => r.length >= n);
  // Stored, each once, from their re-produced copies.
  const kept = `${tag}-rp-kept`;
  await kcatProduce('none', [event('rp-1', 'reproduce', kept)], { keyed: false });
  await kcatProduce('lz4', [`someone-else|${event('rp-2', 'reproduce', kept)}`]);
  assert.deepEqual((await stored(kept, 2)).map((r) => r.id), [`${tag}-rp-1`, `${tag}-rp-2`]);
  // Erased: the DELETE goes out as soon as Kafka acknowledged the two messages. They sit in
  // another partition than the user's, behind a backlog, so their copies reach the user's
  // partition after the erasure command: the erasure covers them all the same.
  const gone = `${tag}-rp-gone`;
  const elsewhere = (partitionOf(gone, PARTITIONS) + 1) % PARTITIONS;
  const backlog = Array.from({ length: 3_000 }, (_, i) => `${tag}-bl${i}|${event(`bl-${i}`, 'backlog', `${tag}-bl${i}`)}`);
  await kcatProduce('lz4', backlog, { keyed: true, partition: elsewhere });
  await kcatProduce('snappy', [event('rp-3', 'reproduce', gone)], { keyed: false, partition: elsewhere });
  await kcatProduce('zstd', [`${kept}|${event('rp-4', 'reproduce', gone)}`], { keyed: true, partition: elsewhere });
  const res = await fetch(`${kf.url}/v1/users/${encodeURIComponent(gone)}`, { method: 'DELETE' });
  assert.equal(res.status, 202);
  const { erasureId } = (await res.json()) as { erasureId: string };
  await eventually(() => getJson<{ status: string }>(`${kf.url}/v1/erasures/${erasureId}`), (r) => r.body.status === 'done');
  // The copies are in the topic, keyed by their user and naming the message they copy (a
  // rebalance may make a copy twice: the store removes the duplicate).
  const copiesOf = async (): Promise<string[]> =>
    (await runWith(kcat, ['-C', '-b', broker, '-t', iso.topic, '-e', '-q', '-f', '%k %h\\n'], ''))
      .split('\n')
      .filter((l) => l.includes('keyflow-reproduced-from='))
      .map((l) => l.split(' ')[0] as string);
  const copies = await eventually(copiesOf, (c) => c.filter((k) => k === gone).length >= 2);
  assert.deepEqual([kept, gone].map((k) => copies.filter((c) => c === k).length >= 2), [true, true], copies.join(' '));
  assert.deepEqual(new Set(copies), new Set([kept, gone]));
  // An event the user sends after the erasure is new data; once it is stored, the copies
  // (ahead of it in the user's partition) have been consumed too — and dropped as erased.
  await kcatProduce('none', [`${gone}|${event('rp-5', 'reproduce-after', gone)}`]);
  assert.deepEqual((await stored(gone, 1)).map((r) => r.id), [`${tag}-rp-5`]);
  assert.equal(await reportTotal('reproduce'), 2);
});

type DeadLetter = { partition: number; offset: string; key: string | null; raw: string | null; reason: string; error: string };
const deadLetters = async (): Promise<DeadLetter[]> => (await getJson<{ items: DeadLetter[] }>(`${kf.url}/v1/dead-letters?limit=1000`)).body.items;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('producers - a tombstone and junk values are dead-lettered with their reasons', async () => {
  const key = `${tag}-junk`;
  await kcatProduce('gzip', [`${key}-tomb|`, `${key}-text|not json at all`, `${key}-schema|{"id":1}`], { keyed: true, nullEmpty: true });
  const keys = [`${key}-tomb`, `${key}-text`, `${key}-schema`];
  const found = await eventually(deadLetters, (d) => keys.every((k) => d.some((x) => x.key === b64(k))));
  const reasonOf = (k: string) => found.find((d) => d.key === b64(k))?.reason;
  assert.deepEqual(keys.map(reasonOf), ['empty', 'not-json', 'schema']);
  assert.equal(found.find((d) => d.key === b64(`${key}-tomb`))?.raw, null);
});

test('producers - a record batch that cannot be decompressed is one undecodable-batch dead letter, and later events of its partition are stored', async () => {
  // A producer whose LZ4 frames carry a wrong content checksum. The broker stores the batch (it
  // does not check LZ4 checksums); any reader that does, as keyflow's codec, cannot decode it.
  const codecs = kafkajs.CompressionCodecs as Record<number, () => unknown>;
  const real = codecs[CompressionTypes.LZ4];
  let compressed: Buffer | undefined;
  const compress = async ({ buffer }: { buffer: Buffer }): Promise<Buffer> => {
    const frame = compressFrameSync(buffer, { contentChecksum: true });
    frame.writeUInt32LE((frame.readUInt32LE(frame.length - 4) + 1) >>> 0, frame.length - 4);
    return (compressed = frame);
  };
  codecs[CompressionTypes.LZ4] = () => ({ compress, decompress: async () => Buffer.alloc(0) });
  const kafka = new Kafka({ clientId: 'keyflow-test-broken-codec', brokers: [broker], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const user = `${tag}-broken`;
    const bad = [0, 1, 2].map((i) => ({ key: user, value: event(`bad-${i}`, 'broken', user) }));
    const [meta] = await producer.send({ topic: iso.topic, acks: -1, compression: CompressionTypes.LZ4, messages: bad });
    assert.ok(meta !== undefined && compressed !== undefined);
    await producer.send({ topic: iso.topic, acks: -1, messages: [{ key: user, value: event('good-after', 'broken-after', user) }] });
    assert.equal(await eventually(() => storedCount('broken-after'), (n) => n === 1), 1);
    const first = BigInt(meta.baseOffset ?? '-1');
    const rows = (await deadLetters()).filter((d) => d.reason === 'undecodable-batch' && d.partition === meta.partition);
    assert.equal(rows.length, 1, JSON.stringify(rows));
    assert.match(rows[0]?.error ?? '', new RegExp(`^lz4 decompression failed: .*checksum.*; offsets ${first}–${first + 2n} \\(3 records, ${compressed.length} compressed bytes\\)$`, 'i'));
    assert.deepEqual(Buffer.from(rows[0]?.raw ?? '', 'base64'), compressed);
    assert.equal(await storedCount('broken'), 0);
    assert.equal((await getJson(`${kf.url}/readyz`)).status, 200);
    assert.doesNotMatch(kf.logs(), /consumer crashed/);
  } finally {
    codecs[CompressionTypes.LZ4] = real as () => unknown;
    await producer.disconnect();
  }
});
