import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { compressSync as rawSnappy } from 'snappy';
import { codecs, CODEC_TYPES, registerCodecs, snappyDecompress, type CodecName } from './codecs.ts';
import { undecodableOf, UNDECODABLE_HEADER, UNDECODABLE_PREFIX_BYTES } from './undecodable.ts';

// kafkajs' own record batch encoder and decoder (CommonJS internals, stable within 2.x): the
// same code that encodes a produce request and decodes a fetch response.
const require = createRequire(import.meta.url);
type Bytes = { buffer: Buffer };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: { offsetDelta: number; key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (b: object) => Promise<Bytes> };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromString(s: string): unknown };

registerCodecs();
const names: CodecName[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const values = Array.from({ length: 5 }, (_, i) => Buffer.from(JSON.stringify({ id: `e${i}`, type: 'view', source: 'test', occurredAt: 1, pad: 'x'.repeat(200) })));

/** A record batch at offsets 100..104 of these values, compressed with `codec`, as a fetch holds it. */
async function batchBytes(codec: CodecName): Promise<Buffer> {
  const records = values.map((value, offsetDelta) => Record({ offsetDelta, key: Buffer.from(`k${offsetDelta}`), value }));
  const encoded = await RecordBatch({ compression: CODEC_TYPES[codec], firstOffset: Long.fromString('100'), lastOffsetDelta: values.length - 1, records });
  // Some bytes before the batch, as in a fetch response: the codec must find the header anyway.
  return Buffer.concat([Buffer.from('fetch response bytes before the batch'), encoded.buffer]).subarray(37);
}

for (const name of names) {
  test(`codecs - a ${name} record batch decodes to its records through kafkajs`, async () => {
    const batch = await decodeBatch(new Decoder(await batchBytes(name)));
    assert.deepEqual(batch.records.map((r) => r.value?.toString()), values.map((v) => v.toString()));
    assert.deepEqual(batch.records.map((r) => r.offset), ['100', '101', '102', '103', '104']);
  });

  test(`codecs - a corrupt ${name} batch decodes to undecodable-batch records at its offsets, the first naming codec, error and offsets`, async () => {
    const bytes = Buffer.from(await batchBytes(name));
    // Ruin the compressed records (they start 61 bytes into the batch), keep the header.
    for (let i = 61 + 4; i < bytes.length; i += 3) bytes[i] = (bytes[i] as number) ^ 0x5a;
    const batch = await decodeBatch(new Decoder(bytes));
    assert.deepEqual(batch.records.map((r) => r.offset), ['100', '101', '102', '103', '104']);
    const marks = batch.records.map((r) => undecodableOf(r.headers));
    assert.equal(marks[0]?.first, true);
    const error = marks[0]?.first === true ? marks[0].error : '';
    assert.match(error, new RegExp(`^${name} decompression failed: .+; offsets 100–104 \\(5 records, \\d+ compressed bytes\\)$`));
    assert.deepEqual(marks.slice(1), Array(4).fill({ first: false }));
    assert.deepEqual(batch.records[0]?.value, bytes.subarray(61, 61 + UNDECODABLE_PREFIX_BYTES));
    assert.equal(batch.records[1]?.value, null);
  });
}

test('codecs - a header that looks like the undecodable mark but lacks this thread\'s token marks nothing', () => {
  assert.equal(undecodableOf({ [UNDECODABLE_HEADER]: Buffer.from('forged') }), undefined);
  assert.equal(undecodableOf({}), undefined);
});

test('codecs - snappy reads raw blocks (librdkafka) and xerial streams of several chunks (the Java client)', () => {
  const a = Buffer.from('a'.repeat(70_000));
  const b = Buffer.from('hello snappy');
  assert.deepEqual(snappyDecompress(rawSnappy(a) as Buffer), a);
  const chunks = [rawSnappy(a) as Buffer, rawSnappy(b) as Buffer];
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
  const framed = Buffer.concat([header, ...chunks.flatMap((c) => [lengthOf(c), c])]);
  assert.deepEqual(snappyDecompress(framed), Buffer.concat([a, b]));
  assert.throws(() => snappyDecompress(framed.subarray(0, framed.length - 3)), { name: 'SnappyFramingError' });
});

test('codecs - bytes that are no record batch keep the codec\'s own error', async () => {
  await assert.rejects(codecs.lz4.decompress(Buffer.from('not lz4 at all')));
});

function lengthOf(chunk: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(chunk.length);
  return b;
}
