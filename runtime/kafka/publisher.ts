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
// With the deployment's secret, every message is signed (trust.ts, signedMessages below): an
// event as validated by the edge, so that workers need not validate it again, a command
// (COMMAND_HEADER) as that command, so that workers run it. The secret never travels.
import { Partitioners, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { COMMAND_HEADER } from '../../actors/index.ts';
import type { EncodedEvent } from '../../http/index.ts';
import { injectHeaders, tracer } from '../../otel/index.ts';
import { partitionOf } from './partitioner.ts';
import { SIGNATURE_HEADER, type MessageTrust } from './trust.ts';

/** Kafka did not acknowledge a publish in time. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
  readonly code = 'KEYFLOW_KAFKA_UNAVAILABLE';
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
};

/** The header in which the edge stamps when it received an event (epoch ms, decimal). */
export const RECEIVED_AT_HEADER = 'keyflow-received-at';

type KafkaMessage = { key: string; value: string; headers: Record<string, string> };
/** Where each message of a publish landed, in order (when the partition count is known). */
type Placement = { partition: number; offset: string }[];
type Queued = { readonly messages: KafkaMessage[]; readonly resolve: (placement: Placement | undefined) => void; readonly reject: (e: unknown) => void };

/** Most messages one coalesced send carries (well under the broker's request limits). */
const MAX_MESSAGES_PER_SEND = 5_000;

/** The producer side of keyflow. */
export class EventPublisher {
  readonly #producer: Producer;
  readonly #options: PublisherOptions;
  #connected: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  readonly #queue: Queued[] = [];
  #sending = false;
  #sends = 0;

  constructor(kafka: Kafka, options: PublisherOptions) {
    this.#options = options;
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

  /** Connect once; safe to call again. */
  connect(): Promise<void> {
    this.#connected ??= this.#producer.connect().catch((e: unknown) => {
      this.#connected = undefined;
      throw e;
    });
    return this.#connected;
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
      const acknowledged = new Promise<Placement | undefined>((resolve, reject) => {
        entry = { messages, resolve, reject };
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
      throw e instanceof KafkaUnavailableError ? e : new KafkaUnavailableError(`Kafka is unavailable: ${(e as Error).message}`, { cause: e });
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

  /** Send everything queued in one request, unless a send is in flight already. */
  #pump(): void {
    if (this.#sending || this.#queue.length === 0) return;
    const batch: Queued[] = [];
    let count = 0;
    while (this.#queue.length > 0 && (batch.length === 0 || count + this.#queue[0]!.messages.length <= MAX_MESSAGES_PER_SEND)) {
      const next = this.#queue.shift()!;
      batch.push(next);
      count += next.messages.length;
    }
    this.#sending = true;
    this.#sends++;
    const messages = batch.length === 1 ? batch[0]!.messages : batch.flatMap((b) => b.messages);
    const started = performance.now();
    const stats = this.#options.stats;
    this.#producer
      .send({ topic: this.#options.topic, acks: -1, messages })
      .then(
        (metadata) => {
          stats?.onAcknowledged?.(messages.length, (performance.now() - started) / 1000);
          const placements = this.#place(batch, metadata);
          batch.forEach((b, i) => b.resolve(placements?.[i]));
        },
        (e: unknown) => {
          stats?.onFailed?.(messages.length);
          batch.forEach((b) => b.reject(e));
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
  #place(batch: readonly Queued[], metadata: readonly RecordMetadata[]): Placement[] | undefined {
    const count = this.#options.partitionCount;
    if (count === undefined) return undefined;
    const next = new Map<number, bigint>();
    for (const m of metadata) if (m.baseOffset !== undefined) next.set(m.partition, BigInt(m.baseOffset));
    return batch.map((b) =>
      b.messages.map((m) => {
        const partition = partitionOf(m.key, count);
        const offset = next.get(partition);
        if (offset === undefined) return { partition, offset: '' };
        next.set(partition, offset + 1n);
        return { partition, offset: offset.toString() };
      }),
    );
  }

  /** Disconnect; a second call returns the same promise. */
  close(): Promise<void> {
    this.#closed ??= this.#producer.disconnect().catch(() => undefined);
    return this.#closed;
  }
}

/**
 * The Kafka messages of a publish, each signed when there is a secret: as the command its
 * COMMAND_HEADER names, else as an edge-validated event. Without a secret they share `headers`.
 */
function signedMessages(events: readonly EncodedEvent[], headers: Readonly<Record<string, string>>, trust: MessageTrust | undefined): KafkaMessage[] {
  if (trust === undefined) return events.map((e) => ({ key: e.key, value: e.value, headers: headers as Record<string, string> }));
  const command = headers[COMMAND_HEADER];
  const kind = command === undefined ? { event: true as const } : { command };
  return events.map((e) => ({ key: e.key, value: e.value, headers: { ...headers, [SIGNATURE_HEADER]: trust.sign(e.key, e.value, kind) } }));
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
