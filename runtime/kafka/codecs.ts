// The compression codecs of Kafka record batches that kafkajs 2.2.4 leaves out: snappy, lz4
// and zstd (gzip is built in). Rule: whatever a real producer writes is decoded — the Java
// client's snappy (xerial framing) as well as librdkafka's raw snappy, the LZ4 frame format,
// zstd frames with or without their content size — and a batch that still cannot be
// decompressed after one retry never throws into the consumer: it becomes the synthetic
// records of ./undecodable.ts, which the worker dead-letters as one row.
//
// The packages are napi-rs builds whose binaries ship inside the npm tarballs (one optional
// dependency per platform, no install script): see bench/RESULTS.md, "Codecs".
import { promisify } from 'node:util';
import { gzip, unzip } from 'node:zlib';
import kafkajs from 'kafkajs';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { compressFrameSync as lz4Compress, decompressFrameSync as lz4Decompress } from 'lz4-napi';
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { batchHeaderOf, holdsRecords, syntheticRecords, UndecodableBatchError } from './undecodable.ts';

/** kafkajs' codec shape: compress gets its Encoder, decompress the batch's records bytes. */
export type Codec = {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
};

export type CodecName = 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** kafkajs' CompressionTypes: the low three bits of a record batch's attributes. */
export const CODEC_TYPES: Readonly<Record<CodecName, number>> = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** The xerial (snappy-java) stream header: magic, then version 1 and compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

/** The error of a snappy stream whose xerial framing is broken. */
export class SnappyFramingError extends Error {
  override readonly name = 'SnappyFramingError';
  readonly code = 'KEYFLOW_SNAPPY_FRAMING';
}

/**
 * Snappy as Kafka producers write it: the Java client wraps raw blocks in xerial framing
 * (header, then chunks of [int32 length][raw snappy block]); librdkafka may send one raw block.
 *
 * @example
 * snappyDecompress(Buffer.from(javaSnappyBytes)); // the records bytes
 */
export function snappyDecompress(buffer: Buffer): Buffer {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyUncompress(buffer) as Buffer;
  const chunks: Buffer[] = [];
  let at = XERIAL_HEADER_BYTES;
  while (at < buffer.length) {
    if (at + 4 > buffer.length) throw new SnappyFramingError(`xerial chunk header cut at byte ${at} of ${buffer.length}`);
    const size = buffer.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > buffer.length) throw new SnappyFramingError(`xerial chunk of ${size} bytes at byte ${at} overruns the ${buffer.length}-byte stream`);
    chunks.push(snappyUncompress(buffer.subarray(at, at + size)) as Buffer);
    at += size;
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Snappy in xerial framing (what the Java client writes; librdkafka and Java read it). */
export function snappyCompressXerial(buffer: Buffer): Buffer {
  const block = snappyCompress(buffer);
  const out = Buffer.allocUnsafe(XERIAL_HEADER_BYTES + 4 + block.length);
  XERIAL_MAGIC.copy(out, 0);
  out.writeInt32BE(1, 8);
  out.writeInt32BE(1, 12);
  out.writeInt32BE(block.length, 16);
  block.copy(out, 20);
  return out;
}

type Decompress = (buffer: Buffer) => Buffer | Promise<Buffer>;

/**
 * One codec's decompress, guarded: a failure is retried once, then the batch becomes
 * undecodable-batch records (./undecodable.ts) instead of an exception; decompressed bytes
 * that do not hold the records the batch counts are a failure too. When the bytes are not a
 * record batch's records as kafkajs sliced them, the error is thrown as it was.
 */
export function guardedDecompress(name: CodecName, decompress: Decompress): (buffer: Buffer) => Promise<Buffer> {
  const type = CODEC_TYPES[name];
  return async (buffer) => {
    const header = batchHeaderOf(buffer, type);
    let error: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const out = await decompress(buffer);
        if (header === undefined || holdsRecords(out, header.count)) return out;
        error = new UndecodableBatchError(`the ${out.length} decompressed bytes do not hold the batch's ${header.count} records`);
        break;
      } catch (e) {
        error = e;
      }
    }
    if (header === undefined) throw error;
    return syntheticRecords(name, header, buffer, error);
  };
}

const gzipAsync = promisify(gzip);
const unzipAsync = promisify(unzip);

/** The four codecs keyflow registers, by name. */
export const codecs: Readonly<Record<CodecName, Codec>> = {
  gzip: { compress: (e) => gzipAsync(e.buffer), decompress: guardedDecompress('gzip', (b) => unzipAsync(b)) },
  snappy: { compress: async (e) => snappyCompressXerial(e.buffer), decompress: guardedDecompress('snappy', snappyDecompress) },
  lz4: { compress: async (e) => lz4Compress(e.buffer), decompress: guardedDecompress('lz4', (b) => lz4Decompress(b)) },
  zstd: { compress: (e) => zstdCompress(e.buffer, 3), decompress: guardedDecompress('zstd', (b) => zstdDecompress(b)) },
};

/** Register the codecs in kafkajs, once per thread (idempotent); createKafka does it. */
export function registerCodecs(): void {
  for (const [name, type] of Object.entries(CODEC_TYPES)) {
    const codec = codecs[name as CodecName];
    (kafkajs.CompressionCodecs as Record<number, () => Codec>)[type] = () => codec;
  }
}
