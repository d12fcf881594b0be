// What a record batch that cannot be decompressed becomes. Rule: such a batch never throws
// into the consumer (kafkajs would crash it, and it would crash again at the same offset);
// it turns into as many synthetic records as the batch counts, at the batch's own offsets, so
// that the worker dead-letters it as ONE row (reason `undecodable-batch`: the codec, the error,
// the offsets first–last, the record count and a bounded prefix of the compressed bytes) and
// resolves every offset it covered. The synthetic records carry a per-thread random token in
// UNDECODABLE_HEADER, so no producer can forge one to make the worker skip a message.
//
// kafkajs 2.2.4 (recordBatch/v0/decoder.js) hands a codec only the compressed bytes, a view
// into the fetch response; the batch header sits right before them (61 bytes, the record
// count last). That header is read back from the same memory and checked field by field; when
// anything does not match, the codec's error is thrown as before instead.
import { randomBytes } from 'node:crypto';
import type { IHeaders } from 'kafkajs';

/** The header marking a synthetic record of an undecodable batch (its value: this thread's token). */
export const UNDECODABLE_HEADER = 'keyflow-undecodable-batch';
/** On the batch's first synthetic record: what failed, in words. */
export const UNDECODABLE_ERROR_HEADER = 'keyflow-undecodable-error';
/** How much of the compressed bytes the first synthetic record keeps. */
export const UNDECODABLE_PREFIX_BYTES = 64 * 1024;

const TOKEN = randomBytes(16);

/** Where a compressed batch's records begin, counted from the batch's first byte. */
const HEADER_BYTES = 61;
/** The batch's `length` field counts every byte after itself: 49 header bytes, then the records. */
const LENGTH_COVERS = 49;

/** A record batch's decompressed bytes do not hold the records its header counts. */
export class UndecodableBatchError extends Error {
  override readonly name = 'UndecodableBatchError';
  readonly code = 'KEYFLOW_UNDECODABLE_BATCH';
}

/** The header of the record batch whose compressed records `records` are. */
export type BatchHeader = { readonly firstOffset: bigint; readonly lastOffsetDelta: number; readonly count: number };

/**
 * The batch header right before `records` in memory, if it is one: magic 2, a length that
 * ends exactly where `records` ends, the codec's compression bits, a plausible record count.
 */
export function batchHeaderOf(records: Buffer, codecType: number): BatchHeader | undefined {
  const start = records.byteOffset - HEADER_BYTES;
  if (start < 0) return undefined;
  const h = Buffer.from(records.buffer, start, HEADER_BYTES);
  const lastOffsetDelta = h.readInt32BE(23);
  const count = h.readInt32BE(57);
  const ok = h.readInt8(16) === 2 && h.readInt32BE(8) === LENGTH_COVERS + records.length && (h.readInt16BE(21) & 0x07) === codecType && count >= 1 && count <= lastOffsetDelta + 1;
  return ok ? { firstOffset: h.readBigInt64BE(0), lastOffsetDelta, count } : undefined;
}

/** Whether `bytes` is exactly `count` length-prefixed records (what kafkajs then reads). */
export function holdsRecords(bytes: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    const v = readVarInt(bytes, at);
    if (v === undefined || v.value < 0) return false;
    at = v.next + v.value;
    if (at > bytes.length) return false;
  }
  return at === bytes.length;
}

/**
 * The synthetic records that stand for an undecodable batch, as decompressed bytes kafkajs
 * decodes: `header.count` records, the first carrying the error and the compressed prefix.
 */
export function syntheticRecords(codec: string, header: BatchHeader, compressed: Buffer, error: unknown): Buffer {
  const first = header.firstOffset;
  const last = first + BigInt(header.lastOffsetDelta);
  const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const text =
    `${codec} decompression failed: ${why}; offsets ${first}–${last} (${header.count} records, ${compressed.length} compressed bytes` +
    `${compressed.length > UNDECODABLE_PREFIX_BYTES ? `, the first ${UNDECODABLE_PREFIX_BYTES} kept` : ''})`;
  const parts: Buffer[] = [];
  for (let i = 0; i < header.count; i++) {
    const offsetDelta = i === header.count - 1 ? header.lastOffsetDelta : i;
    const headers: [string, Buffer][] = [[UNDECODABLE_HEADER, TOKEN]];
    if (i === 0) headers.push([UNDECODABLE_ERROR_HEADER, Buffer.from(text, 'utf8')]);
    parts.push(record(offsetDelta, i === 0 ? compressed.subarray(0, UNDECODABLE_PREFIX_BYTES) : null, headers));
  }
  return Buffer.concat(parts);
}

/**
 * What a consumed message is to the undecodable-batch rule: not synthetic (undefined), the
 * first record of an undecodable batch (with the error text), or one of its other records.
 */
export function undecodableOf(headers: IHeaders | undefined): undefined | { readonly first: true; readonly error: string } | { readonly first: false } {
  const mark = headers?.[UNDECODABLE_HEADER];
  if (!Buffer.isBuffer(mark) || !mark.equals(TOKEN)) return undefined;
  const error = headers?.[UNDECODABLE_ERROR_HEADER];
  return Buffer.isBuffer(error) ? { first: true, error: error.toString('utf8') } : { first: false };
}

/** One record v2 (attributes, timestamp delta 0, offset delta, null key, value, headers), length-prefixed. */
function record(offsetDelta: number, value: Buffer | null, headers: readonly [string, Buffer][]): Buffer {
  const body: Buffer[] = [Buffer.from([0]), varInt(0), varInt(offsetDelta), varInt(-1)];
  body.push(value === null ? varInt(-1) : Buffer.concat([varInt(value.length), value]));
  body.push(varInt(headers.length));
  for (const [k, v] of headers) {
    const key = Buffer.from(k, 'utf8');
    body.push(varInt(key.length), key, varInt(v.length), v);
  }
  const bytes = Buffer.concat(body);
  return Buffer.concat([varInt(bytes.length), bytes]);
}

/** A zigzag varint, as Kafka's records encode their ints. */
function varInt(n: number): Buffer {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  const out: number[] = [];
  while (z > 0x7f) {
    out.push((z & 0x7f) | 0x80);
    z >>>= 7;
  }
  out.push(z);
  return Buffer.from(out);
}

function readVarInt(bytes: Buffer, at: number): { value: number; next: number } | undefined {
  let z = 0;
  for (let shift = 0, i = at; i < bytes.length && shift <= 28; shift += 7, i++) {
    const b = bytes[i] as number;
    z |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: (z >>> 1) ^ -(z & 1), next: i + 1 };
  }
  return undefined;
}
