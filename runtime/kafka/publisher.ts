// Produces validated events to the events topic. Rule: publish() resolves only after Kafka
// acknowledged every message (acks = all, idempotent producer), and rejects with
// KafkaUnavailableError otherwise — then the caller must not report the events accepted.
//
// The idempotent producer keeps one request in flight, so publishes that arrive while a
// send is in flight are coalesced into the next send (group commit): no added latency when
// idle, one produce request for many HTTP requests under load. A publish that times out or
// is aborted before its send starts is withdrawn from the queue; one already in flight may
// still land — harmless, since a retry of the same events is deduplicated downstream.
//
// Sizes (./produce-split.ts): each send keeps every partition's record batch within the
// topic's max.message.bytes, read at connect (./message-limit.ts), so one publish may take
// several sends and resolves once all of them were acknowledged; an event too large for any
// batch is refused with EventTooLargeError before anything of its publish is queued.
//
// With the deployment's secret, every message is signed (trust.ts, signedMessages below): an
// event as validated by the edge, so that workers need not validate it again, a command
// (COMMAND_HEADER) as that command, so that workers run it. The secret never travels.
import { Partitioners, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { COMMAND_HEADER } from '../../actors/index.ts';
import type { EncodedEvent } from '../../http/index.ts';
import { injectHeaders, tracer } from '../../otel/index.ts';
import { readMessageLimit, type MessageLimit } from './message-limit.ts';
import { partitionOf } from './partitioner.ts';
import { headerBytes, maxRecordBytes, recordBytes, SendPlan } from './produce-split.ts';
import { SIGNATURE_HEADER, SIGNATURE_CHARS, type MessageTrust } from './trust.ts';

/** Kafka did not acknowledge a publish in time. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
  readonly code = 'KEYFLOW_KAFKA_UNAVAILABLE';
}

/**
 * An event is larger than any record batch the topic takes; nothing of its publish was
 * produced. `index` is its position in the publish.
 */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';
  readonly code = 'KEYFLOW_EVENT_TOO_LARGE';
  readonly index: number;
  readonly eventBytes: number;
  readonly maxEventBytes: number;
  constructor(index: number, eventBytes: number, maxEventBytes: number, limit: MessageLimit) {
    super(`event ${index} takes ${eventBytes} bytes in Kafka; at most ${maxEventBytes} fit one message (${limit.source}: ${limit.maxMessageBytes} bytes)`);
    this.index = index;
    this.eventBytes = eventBytes;
    this.maxEventBytes = maxEventBytes;
  }
}

/** Producer statistics hooks (seed E's "producer stats": throughput, latency, errors). */
export type ProducerStats = {
  /** A produce request was acknowledged: how many messages it carried and how long it took. */
  onAcknowledged?(messages: number, seconds: number): void;
  /** A produce request failed. */
  onFailed?(messages: number): void;
};

export type PublisherOptions = {
  readonly topic: string;
  readonly timeoutMs: number;
  readonly stats?: ProducerStats;
  /** The topic's partitions, to name each message's partition and offset on the publish span. */
  readonly partitionCount?: number;
  /** Told how long each publish took, from the call until Kafka acknowledged (or it failed). */
  readonly onPublished?: (seconds: number, outcome: 'ok' | 'error') => void;
  /** Signs every message: the events are the edge's, validated and encoded; a command is keyflow's. */
  readonly trust?: MessageTrust | undefined;
  /** The largest record batch the topic takes; by default read from the topic (or broker) at connect. */
  readonly messageLimit?: MessageLimit;
};

/** The header in which the edge stamps when it received an event (epoch ms, decimal). */
export const RECEIVED_AT_HEADER = 'keyflow-received-at';

type KafkaMessage = { key: string; value: string; headers: Record<string, string> };
/** Where each message of a publish landed, in order (when the partition count is known). */
type Placement = { partition: number; offset: string }[];
/**
 * One publish waiting for its sends: `next` is its first message not yet in a send, `acked`
 * how many of its messages Kafka acknowledged; it resolves once all were.
 */
type Queued = {
  readonly messages: KafkaMessage[];
  /** Each message's record size and partition (-1 when the partition count is unknown). */
  readonly bytes: number[];
  readonly partitions: number[];
  next: number;
  acked: number;
  readonly placement: Placement;
  readonly resolve: (placement: Placement | undefined) => void;
  readonly reject: (e: unknown) => void;
};
/** The messages `from` to `to` (exclusive) of one publish, in one send. */
type Part = { readonly entry: Queued; readonly from: number; readonly to: number };

/** Most messages one coalesced send carries (well under the broker's request limits). */
const MAX_MESSAGES_PER_SEND = 5_000;
/** Most bytes one send carries (the broker's socket.request.max.bytes is 100 MiB by default), unless one batch needs more. */
const MAX_BYTES_PER_SEND = 16 * 1024 * 1024;
/** Room kept for the headers the edge adds to each event (trace context, received-at, command) when it tells how large an event may be. */
const HEADERS_RESERVE_BYTES = 1024;

/** The producer side of keyflow. */
export class EventPublisher {
  readonly #producer: Producer;
  readonly #options: PublisherOptions;
  readonly #kafka: Kafka;
  #limit: MessageLimit | undefined;
  #connected: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  readonly #queue: Queued[] = [];
  #sending = false;
  #sends = 0;

  constructor(kafka: Kafka, options: PublisherOptions) {
    this.#options = options;
    this.#kafka = kafka;
    this.#limit = options.messageLimit;
    // Few retries: a request that cannot reach Kafka fails fast with 503; a client retry is
    // harmless because events are identified by (id, occurredAt).
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // The Java client's murmur2 partitioner: other producers and the edge agree on where a key lives.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  /** Connect once, and read the topic's message size limit; safe to call again. */
  connect(): Promise<void> {
    this.#connected ??= (async () => {
      await this.#producer.connect();
      this.#limit ??= await readMessageLimit(this.#kafka, this.#options.topic);
    })().catch((e: unknown) => {
      this.#connected = undefined;
      throw e;
    });
    return this.#connected;
  }

  /** The largest record batch the topic takes (known once connected). */
  get messageLimit(): MessageLimit | undefined {
    return this.#limit;
  }

  /**
   * The most bytes an event's key and encoded value may take together (known once
   * connected): what is left of one message for them once Kafka's overhead and the headers
   * the edge adds are counted.
   */
  get maxEventBytes(): number | undefined {
    if (this.#limit === undefined) return undefined;
    const token = this.#options.trust === undefined ? 0 : headerBytes({ [SIGNATURE_HEADER]: 'x'.repeat(SIGNATURE_CHARS) });
    return maxRecordBytes(this.#limit.maxMessageBytes) - recordBytes('', '', HEADERS_RESERVE_BYTES + token);
  }

  /**
   * Produce encoded events and wait for Kafka's acknowledgement.
   *
   * @example
   * await publisher.publish([{ id: 'e-1', key: 'u-1', value: '{"id":"e-1",…}' }]);
   * // a command: the same path, with its marking header
   * await publisher.publish([{ id: erasureId, key: 'u-1', value }], signal, { 'keyflow-command': 'erase-user' });
   */
  async publish(events: readonly EncodedEvent[], signal?: AbortSignal, extraHeaders?: Readonly<Record<string, string>>): Promise<void> {
    if (events.length === 0) return;
    const started = performance.now();
    const span = tracer().startSpan(`${this.#options.topic} publish`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.name': this.#options.topic,
        'messaging.batch.message_count': events.length,
        ...(events.length === 1 ? { 'messaging.kafka.message.key': events[0]!.key } : {}),
      },
    });
    const headers: Record<string, string> = { ...injectHeaders(trace.setSpan(context.active(), span)), [RECEIVED_AT_HEADER]: String(Date.now()), ...extraHeaders };
    const messages = signedMessages(events, headers, this.#options.trust);
    let outcome: 'ok' | 'error' = 'error';
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let entry: Queued | undefined;
    try {
      // The deadline covers connecting too: kafkajs retries a refused connection on its own.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.#options.timeoutMs} ms`)), this.#options.timeoutMs);
        onAbort = () => reject(new KafkaUnavailableError('publish aborted', { cause: signal?.reason }));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      deadline.catch(() => undefined);
      await Promise.race([this.connect(), deadline]);
      const sized = this.#sized(messages, messages[0]!.headers);
      const acknowledged = new Promise<Placement | undefined>((resolve, reject) => {
        entry = { messages, ...sized, next: 0, acked: 0, placement: [], resolve, reject };
        this.#queue.push(entry);
      });
      this.#pump();
      const placement = await Promise.race([acknowledged, deadline]);
      outcome = 'ok';
      describePlacement(span, placement);
    } catch (e) {
      const queuedAt = entry === undefined ? -1 : this.#queue.indexOf(entry);
      if (queuedAt >= 0) this.#queue.splice(queuedAt, 1);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e instanceof KafkaUnavailableError || e instanceof EventTooLargeError ? e : new KafkaUnavailableError(`Kafka is unavailable: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
      // One request's signal serves every publish of a stream: a listener left on it would
      // keep each publish's messages alive until the request ends (an NDJSON stream of 500,000
      // events ran the edge out of heap that way).
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      span.end();
      this.#options.onPublished?.((performance.now() - started) / 1000, outcome);
    }
  }

  /** Produce requests sent so far (each may carry several publishes). */
  get sends(): number {
    return this.#sends;
  }

  /** Each message's record size and partition; throws EventTooLargeError for one no batch can hold. */
  #sized(messages: readonly KafkaMessage[], headers: Readonly<Record<string, string>>): { bytes: number[]; partitions: number[] } {
    const limit = this.#limit;
    if (limit === undefined) throw new Error('publisher: the message size limit is read at connect');
    const perHeaders = headerBytes(headers);
    const most = maxRecordBytes(limit.maxMessageBytes);
    const count = this.#options.partitionCount;
    const bytes = messages.map((m) => recordBytes(m.key, m.value, perHeaders));
    const over = bytes.findIndex((b) => b > most);
    if (over >= 0) {
      const m = messages[over]!;
      const event = Buffer.byteLength(m.key) + Buffer.byteLength(m.value);
      throw new EventTooLargeError(over, event, event - (bytes[over]! - most), limit);
    }
    return { bytes, partitions: messages.map((m) => (count === undefined ? -1 : partitionOf(m.key, count))) };
  }

  /**
   * Send what is queued in one request, unless a send is in flight already: whole publishes
   * while they fit (coalesced), and of a publish too large for one request as much as fits.
   */
  #pump(): void {
    if (this.#sending || this.#queue.length === 0) return;
    const limit = this.#limit!;
    const plan = new SendPlan(limit.maxMessageBytes, Math.max(MAX_BYTES_PER_SEND, limit.maxMessageBytes), MAX_MESSAGES_PER_SEND);
    const parts: Part[] = [];
    for (let entry = this.#queue[0]; entry !== undefined; entry = this.#queue[0]) {
      const from = entry.next;
      while (entry.next < entry.messages.length && plan.add(entry.partitions[entry.next]!, entry.bytes[entry.next]!)) entry.next++;
      if (entry.next > from) parts.push({ entry, from, to: entry.next });
      if (entry.next < entry.messages.length) break; // the rest of it goes in the next send
      this.#queue.shift();
    }
    this.#sending = true;
    this.#sends++;
    const messages = parts.length === 1 && parts[0]!.from === 0 && parts[0]!.to === parts[0]!.entry.messages.length
      ? parts[0]!.entry.messages
      : parts.flatMap((p) => p.entry.messages.slice(p.from, p.to));
    const started = performance.now();
    const stats = this.#options.stats;
    this.#producer
      .send({ topic: this.#options.topic, acks: -1, messages })
      .then(
        (metadata) => {
          stats?.onAcknowledged?.(messages.length, (performance.now() - started) / 1000);
          this.#place(parts, metadata);
          for (const p of parts) {
            p.entry.acked += p.to - p.from;
            if (p.entry.acked === p.entry.messages.length) p.entry.resolve(this.#options.partitionCount === undefined ? undefined : p.entry.placement);
          }
        },
        (e: unknown) => {
          stats?.onFailed?.(messages.length);
          for (const p of parts) {
            // The rest of a publish cut short is not sent: the publish failed as a whole.
            const queuedAt = this.#queue.indexOf(p.entry);
            if (queuedAt >= 0) this.#queue.splice(queuedAt, 1);
            p.entry.reject(e);
          }
        },
      )
      .finally(() => {
        this.#sending = false;
        this.#pump();
      });
  }

  /**
   * Where each message of a send landed: the partitioner's choice (the Java client's murmur2,
   * which partitionOf reproduces) and, within each partition, the acknowledged base offset
   * plus the message's position among that partition's messages of the send.
   */
  #place(parts: readonly Part[], metadata: readonly RecordMetadata[]): void {
    if (this.#options.partitionCount === undefined) return;
    const next = new Map<number, bigint>();
    for (const m of metadata) if (m.baseOffset !== undefined) next.set(m.partition, BigInt(m.baseOffset));
    for (const p of parts) {
      for (let i = p.from; i < p.to; i++) {
        const partition = p.entry.partitions[i]!;
        const offset = next.get(partition);
        if (offset === undefined) {
          p.entry.placement.push({ partition, offset: '' });
          continue;
        }
        next.set(partition, offset + 1n);
        p.entry.placement.push({ partition, offset: offset.toString() });
      }
    }
  }

  /** Disconnect; a second call returns the same promise. */
  close(): Promise<void> {
    this.#closed ??= this.#producer.disconnect().catch(() => undefined);
    return this.#closed;
  }
}

/** Name the partition and offset on a publish span when its messages share one partition. */
function describePlacement(span: { setAttribute(k: string, v: string | number): unknown }, placement: Placement | undefined): void {
  const first = placement?.[0];
  if (placement === undefined || first === undefined) return;
  if (!placement.every((p) => p.partition === first.partition)) return;
  span.setAttribute('messaging.destination.partition.id', String(first.partition));
  if (first.offset !== '') {
    span.setAttribute('messaging.kafka.offset', Number(first.offset));
    span.setAttribute('messaging.kafka.message.offset', Number(first.offset));
  }
}

/** The messages of one publish, each signed with the deployment's secret when there is one (the signature counts in its size). */
function signedMessages(events: readonly EncodedEvent[], headers: Readonly<Record<string, string>>, trust: MessageTrust | undefined): KafkaMessage[] {
  if (trust === undefined) return events.map((e) => ({ key: e.key, value: e.value, headers: headers as Record<string, string> }));
  const command = headers[COMMAND_HEADER];
  const kind = command === undefined ? { event: true as const } : { command };
  return events.map((e) => ({ key: e.key, value: e.value, headers: { ...headers, [SIGNATURE_HEADER]: trust.sign(e.key, e.value, kind) } }));
}
