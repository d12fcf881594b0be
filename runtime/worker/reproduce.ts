// Messages whose Kafka key is not their event's partition key (none at all, or another one:
// kcat, a keyless producer, a service keyed by something else). Rule: such an event is not
// stored where it sits — it is re-produced to the topic keyed by its partition key (same
// value, headers and timestamp, plus REPRODUCED_HEADER naming where it came from), and its
// own offset counts as consumed only once Kafka acknowledged that produce (acks = all,
// idempotent producer); the copy is stored like any event, so one user still meets one
// actor, in order with its erasures: a copy of an event produced (Kafka timestamp) before a
// done erasure of its user was requested is dropped as erased (./erasure.ts). Commands are not re-produced (a command off its user's
// key is dead-lettered by decode-message.ts).
//
// One fetched batch makes at most a few produce requests: the worker hands over every
// mis-keyed event from the first one to the end of the batch at once, sent in slices of at
// most MAX_SEND_BYTES. A message re-produced already (the batch was fetched again after a
// pause) is not re-produced again by this worker; a copy produced twice after a crash or a
// rebalance is a duplicate the store removes.
import { Partitioners, type IHeaders, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import { partitionKeyOf, type PartitionKeyMode } from '../../actors/index.ts';
import type { DecodedMessage } from './decode-message.ts';

/** On a re-produced copy: `partition:offset` of the message it copies. */
export const REPRODUCED_HEADER = 'keyflow-reproduced-from';

/** Whether a message is a re-produced copy (it carries REPRODUCED_HEADER). */
export function isReproduced(message: Pick<KafkaMessage, 'headers'>): boolean {
  return message.headers?.[REPRODUCED_HEADER] !== undefined;
}

/** Most bytes (keys, values, headers) one produce request of copies carries. */
export const MAX_SEND_BYTES = 256 * 1024;

/** A message to re-produce: its index in the batch and its partition key. */
export type MisKeyed = { readonly index: number; readonly key: string };

/**
 * The events among `decoded[from…]` whose Kafka key is not their partition key; fills in
 * `decoded` with `decode` where it has no entry yet.
 */
export function misKeyedFrom(
  messages: readonly KafkaMessage[],
  decoded: (DecodedMessage | undefined)[],
  from: number,
  mode: PartitionKeyMode,
  decode: (m: KafkaMessage) => DecodedMessage,
): MisKeyed[] {
  const found: MisKeyed[] = [];
  for (let i = from; i < messages.length; i++) {
    const message = messages[i] as KafkaMessage;
    const d = (decoded[i] ??= decode(message));
    const key = misKeyOf(message, d, mode);
    if (key !== undefined) found.push({ index: i, key });
  }
  return found;
}

/** The partition key a message must be re-produced under, or undefined when it is keyed right (or no event). */
export function misKeyOf(message: Pick<KafkaMessage, 'key'>, decoded: DecodedMessage, mode: PartitionKeyMode): string | undefined {
  if (decoded.kind !== 'event') return undefined;
  const key = partitionKeyOf(decoded.event, mode);
  return message.key !== null && message.key.length === Buffer.byteLength(key) && message.key.toString('utf8') === key ? undefined : key;
}

/** One worker's producer of re-keyed copies. */
export class Reproducer {
  readonly #kafka: Kafka;
  readonly #topic: string;
  #producer: Producer | undefined;
  #connected: Promise<void> | undefined;
  /** Per partition, the highest offset whose copy Kafka acknowledged. */
  readonly #done = new Map<number, bigint>();

  constructor(kafka: Kafka, topic: string) {
    this.#kafka = kafka;
    this.#topic = topic;
  }

  /**
   * Re-produce these messages of `partition`, keyed as given, in order; resolves once Kafka
   * acknowledged every copy, rejects when it did not (then none counts as re-produced).
   */
  async reproduce(partition: number, items: readonly { readonly message: KafkaMessage; readonly key: string }[]): Promise<void> {
    const done = this.#done.get(partition) ?? -1n;
    const todo = items.filter(({ message }) => BigInt(message.offset) > done);
    if (todo.length === 0) return;
    const producer = await this.#connect();
    let slice: { key: string; value: Buffer | null; headers: IHeaders; timestamp: string }[] = [];
    let bytes = 0;
    const send = async (): Promise<void> => {
      if (slice.length === 0) return;
      await producer.send({ topic: this.#topic, acks: -1, messages: slice });
      slice = [];
      bytes = 0;
    };
    for (const { message, key } of todo) {
      const size = Buffer.byteLength(key) + (message.value?.length ?? 0) + headerBytes(message.headers);
      if (bytes > 0 && bytes + size > MAX_SEND_BYTES) await send();
      slice.push({ key, value: message.value, headers: { ...message.headers, [REPRODUCED_HEADER]: `${partition}:${message.offset}` }, timestamp: message.timestamp });
      bytes += size;
    }
    await send();
    this.#done.set(partition, BigInt((todo[todo.length - 1] as { message: KafkaMessage }).message.offset));
  }

  /** Disconnect the producer, if one was connected. */
  async close(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    this.#connected = undefined;
    await producer?.disconnect();
  }

  #connect(): Promise<Producer> {
    this.#producer ??= this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // The Java client's murmur2 partitioner, as the edge uses: the copy lands where its key lives.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
    const producer = this.#producer;
    this.#connected ??= producer.connect().catch((e: unknown) => {
      this.#connected = undefined;
      throw e;
    });
    return this.#connected.then(() => producer);
  }
}

function headerBytes(headers: IHeaders | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers ?? {})) {
    for (const x of Array.isArray(v) ? v : [v]) n += k.length + (x === undefined ? 0 : typeof x === 'string' ? Buffer.byteLength(x) : x.length);
  }
  return n;
}
