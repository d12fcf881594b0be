// How the edge cuts its messages into produce requests. Rule: in one produce request the
// messages bound for one partition form one record batch, and each record batch stays within
// the broker's limit (max.message.bytes) counting Kafka's batch and record overhead at their
// largest — so no request keyflow builds is refused for its size, whatever the keys share
// (DESIGN.md, "Bytes, not counts"). Sizes are of the uncompressed v2 record format: the
// publisher does not compress, and compression only makes a batch smaller.

/** A record batch's header: offset, length, epoch, magic, CRC, attributes, deltas, timestamps, producer id/epoch, sequence, count. */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;
/** A record's own fields at their largest: length, attributes, timestamp and offset deltas, key and value lengths, header count. */
const RECORD_OVERHEAD_BYTES = 5 + 1 + 10 + 5 + 5 + 5 + 5;
/** A header's two length varints at their largest. */
const HEADER_OVERHEAD_BYTES = 10;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Bytes the headers add to each record that carries them. */
export function headerBytes(headers: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) n += HEADER_OVERHEAD_BYTES + utf8Bytes(k) + utf8Bytes(v);
  return n;
}

/**
 * The most bytes one record of this key, value and headers takes in a record batch
 * (`headers` as `headerBytes` gave them).
 *
 * @example
 * recordBytes('u-1', '{"id":"e-1"}', headerBytes({ 'keyflow-received-at': '1765000000000' })); // 96
 */
export function recordBytes(key: string, value: string, headersBytes: number): number {
  return RECORD_OVERHEAD_BYTES + utf8Bytes(key) + utf8Bytes(value) + headersBytes;
}

/** The most a record may take so that a record batch of it alone fits `maxMessageBytes`. */
export function maxRecordBytes(maxMessageBytes: number): number {
  return maxMessageBytes - RECORD_BATCH_OVERHEAD_BYTES;
}

/**
 * One produce request being filled: per partition, the bytes of its record batch so far.
 * `add` says whether a record still fits; the first record always does (a record too large
 * for any batch must be refused before it is planned, see maxRecordBytes).
 */
export class SendPlan {
  readonly #maxMessageBytes: number;
  readonly #maxSendBytes: number;
  readonly #maxMessages: number;
  readonly #batchBytes = new Map<number, number>();
  #bytes = 0;
  #messages = 0;

  /** `maxSendBytes` and `maxMessages` bound the request as a whole, beside each batch. */
  constructor(maxMessageBytes: number, maxSendBytes: number, maxMessages: number) {
    this.#maxMessageBytes = maxMessageBytes;
    this.#maxSendBytes = maxSendBytes;
    this.#maxMessages = maxMessages;
  }

  /** Add a record of `bytes` bound for `partition` if it fits; false (and nothing added) when it does not. */
  add(partition: number, bytes: number): boolean {
    const batch = this.#batchBytes.get(partition) ?? RECORD_BATCH_OVERHEAD_BYTES;
    const fits = batch + bytes <= this.#maxMessageBytes && this.#bytes + bytes <= this.#maxSendBytes && this.#messages < this.#maxMessages;
    if (!fits && this.#messages > 0) return false;
    this.#batchBytes.set(partition, batch + bytes);
    this.#bytes += bytes;
    this.#messages++;
    return true;
  }

  get messages(): number {
    return this.#messages;
  }
}
