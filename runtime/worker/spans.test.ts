import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Pending } from '../../actors/index.ts';
import { startFlushSpan } from './spans.ts';
import type { Meta } from './store-batch.ts';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
before(() => {
  trace.setGlobalTracerProvider(provider);
});
after(async () => {
  await provider.shutdown();
  trace.disable();
});

const traceId = (i: number): string => i.toString(16).padStart(32, '0');
const spanOf = (i: number): SpanContext => ({ traceId: traceId(i + 1), spanId: (i + 1).toString(16).padStart(16, '0'), traceFlags: TraceFlags.SAMPLED });
const entry = (i: number, traced: boolean): Pending<Meta> => ({
  key: `k${i}`,
  event: { id: `e${i}`, type: 't', source: 's', occurredAt: 0 },
  meta: { partition: 0, offset: String(i), span: traced ? spanOf(i) : undefined, receivedAtMs: 0, bytes: 100 },
});

test("spans - a flush span is a child of its first traced event's span and links to the others, up to 128", () => {
  const entries = [entry(0, false), ...Array.from({ length: 200 }, (_, i) => entry(i + 1, true))];
  const { span, context } = startFlushSpan(entries, 3, 5);
  assert.equal(trace.getSpan(context), span);
  span.end();
  const [done] = exporter.getFinishedSpans();
  assert.equal(done?.name, 'keyflow flush');
  assert.equal(done?.spanContext().traceId, spanOf(1).traceId, 'the trace of the first traced event');
  assert.equal(done?.parentSpanContext?.spanId, spanOf(1).spanId);
  assert.equal(done?.links.length, 128);
  assert.equal(done?.links[0]?.context.spanId, spanOf(2).spanId, 'no link to the parent itself');
  assert.deepEqual(
    { events: done?.attributes['keyflow.flush.events'], deadLetters: done?.attributes['keyflow.flush.dead_letters'], dropped: done?.attributes['keyflow.flush.links_dropped'], worker: done?.attributes['keyflow.worker.id'] },
    { events: 201, deadLetters: 3, dropped: 200 - 1 - 128, worker: 5 },
  );
});

test('spans - a flush of untraced events is a root span without links', () => {
  exporter.reset();
  const { span } = startFlushSpan([entry(0, false)], 0, 1);
  span.end();
  const [done] = exporter.getFinishedSpans();
  assert.equal(done?.parentSpanContext, undefined);
  assert.equal(done?.links.length, 0);
  assert.equal(done?.attributes['keyflow.flush.links_dropped'], 0);
});
