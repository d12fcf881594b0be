// A worker's spans. Rule: each message's `process` span continues the producer's trace
// (Kafka headers); a flush span is a child of its first traced event's and links to the
// others (up to 128; the rest are counted in an attribute), and the store, the offset commit
// and the live update are client spans inside it.
import type { KafkaMessage } from 'kafkajs';
import { SpanKind, context, trace, type Context, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import type { Pending } from '../../actors/index.ts';
import { extractHeaders, tracer } from '../../otel/index.ts';
import type { Meta } from './store-batch.ts';

/** Links kept on one flush span; the rest are counted in an attribute. */
const MAX_FLUSH_LINKS = 128;

/** Where a message was consumed, for its `process` span. */
export type ProcessedAt = { readonly topic: string; readonly partition: number; readonly groupId: string; readonly workerId: number };

/** Record the `process` span of one event's message (ended at once); its context, for the flush span. */
export function recordProcessSpan(at: ProcessedAt, message: KafkaMessage, eventId: string): SpanContext {
  const s = tracer().startSpan(`${at.topic} process`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': at.topic,
      'messaging.destination.partition.id': String(at.partition),
      'messaging.consumer.group.name': at.groupId,
      'messaging.kafka.offset': Number(message.offset),
      'messaging.kafka.message.offset': Number(message.offset),
      ...(message.key ? { 'messaging.kafka.message.key': message.key.toString() } : {}),
      'keyflow.event.id': eventId,
      'keyflow.worker.id': at.workerId,
    },
  }, extractHeaders(message.headers));
  s.end();
  return s.spanContext();
}

/** A flush attempt's span, and the context that makes it active. */
export type FlushSpan = { readonly span: Span; readonly context: Context };

/** Start the span of one flush attempt of `entries` and `deadLetters` dead letters. */
export function startFlushSpan(entries: readonly Pending<Meta>[], deadLetters: number, workerId: number): FlushSpan {
  // The first traced event's span is the parent; the others are links (a link to the
  // parent too would make Jaeger show the parent as a mere FOLLOWS_FROM reference).
  const traced = entries.filter((e) => e.meta.span !== undefined);
  const first = traced[0]?.meta.span;
  const links: Link[] = traced.slice(1, 1 + MAX_FLUSH_LINKS).map((e) => ({ context: e.meta.span! }));
  const parent = first === undefined ? context.active() : trace.setSpanContext(context.active(), first);
  const span = tracer().startSpan('keyflow flush', {
    kind: SpanKind.INTERNAL,
    links,
    attributes: { 'keyflow.flush.events': entries.length, 'keyflow.flush.dead_letters': deadLetters, 'keyflow.flush.links_dropped': Math.max(0, traced.length - 1 - links.length), 'keyflow.worker.id': workerId },
  }, parent);
  return { span, context: trace.setSpan(parent, span) };
}
