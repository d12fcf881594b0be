// How much of a dead letter's value is kept. Rule (DESIGN.md, "Bytes, not counts"): a dead
// letter holds at most `maxBytes` of its raw value — a copy, so the rest of the fetched
// buffer it was sliced from can be collected — plus the whole value's length and SHA-256,
// so a reader can tell a prefix from the whole and match it with the producer's copy.
import { createHash } from 'node:crypto';
import type { DeadLetterRow } from './flush.ts';

/**
 * The row with its raw value cut to at most `maxBytes` (copied) and described by its full
 * length and SHA-256. A row already bounded (rawLength set) or without a value is returned
 * as it is.
 *
 * @example
 * const row = boundDeadLetter({ topic, partition, offset, key, raw: message.value, reason, error }, 65_536);
 * // row.raw.byteLength <= 65_536; row.rawLength === message.value.byteLength
 */
export function boundDeadLetter(row: DeadLetterRow, maxBytes: number): DeadLetterRow {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer (got ${maxBytes})`);
  const raw = row.raw;
  if (raw === null || row.rawLength !== undefined) return row;
  const rawSha256 = createHash('sha256').update(raw).digest();
  // Buffer.from(Uint8Array) copies: nothing keeps the source (e.g. a whole fetch response) alive.
  const kept = Buffer.from(raw.subarray(0, Math.min(maxBytes, raw.byteLength)));
  return { ...row, raw: kept, rawLength: raw.byteLength, rawSha256 };
}
