// Produces validated events to the events topic. Rule: publish() resolves only after Kafka
// acknowledged every message (acks = all, idempotent producer), and rejects with
// KafkaUnavailableError otherwise — then the caller must not report the events accepted.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { EncodedEvent } from '../../http/index.ts';
import { injectHeaders, tracer } from '../../otel/index.ts';

/** Kafka did not acknowledge a publish in time. */
export class KafkaUnavailableError extends Error {
  override readonly name = 'KafkaUnavailableError';
  readonly code = 'KEYFLOW_KAFKA_UNAVAILABLE';
}

export type PublisherOptions = { readonly topic: string; readonly timeoutMs: number };

/** The producer side of keyflow. */
export class EventPublisher {
  readonly #producer: Producer;
  readonly #options: PublisherOptions;
  #connected: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

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
   */
  async publish(events: readonly EncodedEvent[], signal?: AbortSignal): Promise<void> {
    if (events.length === 0) return;
    const span = tracer().startSpan(`${this.#options.topic} publish`, {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': this.#options.topic, 'messaging.batch.message_count': events.length },
    });
    const headers = injectHeaders(trace.setSpan(context.active(), span));
    const messages = events.map((e) => ({ key: e.key, value: e.value, headers }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.connect();
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KafkaUnavailableError(`Kafka did not acknowledge within ${this.#options.timeoutMs} ms`)), this.#options.timeoutMs);
        signal?.addEventListener('abort', () => reject(new KafkaUnavailableError('publish aborted', { cause: signal.reason })), { once: true });
      });
      await Promise.race([this.#producer.send({ topic: this.#options.topic, acks: -1, messages }), deadline]);
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e instanceof KafkaUnavailableError ? e : new KafkaUnavailableError(`Kafka is unavailable: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
      span.end();
    }
  }

  /** Disconnect; a second call returns the same promise. */
  close(): Promise<void> {
    this.#closed ??= this.#producer.disconnect().catch(() => undefined);
    return this.#closed;
  }
}
