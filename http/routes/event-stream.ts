// POST /v1/events/stream: NDJSON of any length, one event per line, produced to Kafka as it
// is read. Rule: `accepted` counts only events Kafka acknowledged, and the edge holds at most
// two chunks of events (one being read, one being published) plus one line, whatever the
// body's length — it reads the next bytes only once the chunk before the last was
// acknowledged, so a client can send no faster than Kafka takes its events. When Kafka stops
// acknowledging, the stream stops there: the answer (503) says how many events were already
// accepted, and resending the whole stream is safe because events are identified by
// (id, occurredAt).
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { InvalidBodyError, KafkaUnavailableError, RequestTimeoutError, ValidationFailedError } from '../errors.ts';
import { acceptedInstants, decodeBody, type EncodedEvent } from '../ingest/decode-body.ts';
import { tooLargeMessage } from '../ingest/event-size.ts';
import { ndjsonLines } from '../ingest/ndjson-lines.ts';
import { boundErrors, MAX_REJECTED_BYTES, RejectionBudget } from '../ingest/rejections.ts';
import { bodyChunks, idleBounded } from '../ingest/read-body.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import type { EdgeOptions, IngestPort } from '../ports.ts';

/** Events per publish: large enough for Kafka batching, small enough to bound memory. */
const CHUNK_EVENTS = 500;
/** Longest wait for the next bytes of the body, unless KEYFLOW_BODY_TIMEOUT_MS says otherwise. */
const DEFAULT_IDLE_MS = 15_000;
/** Longest line, as the workers' largest message (a longer one could never be stored). */
export const MAX_LINE_BYTES = 256 * 1024;
/** Rejected lines listed in the answer; the rest are counted in `rejectedCount`. */
export const MAX_REJECTED_LISTED = 1000;

const fieldError = z.object({ path: z.string(), message: z.string() });
const rejectedLine = z.object({ line: z.number().int().min(1), errors: z.array(fieldError) });

/** The answer of POST /v1/events/stream (202, and beside `error` on 400/503). */
export const streamSummarySchema = z.object({
  accepted: z.number().int().min(0).describe('events Kafka acknowledged'),
  rejected: z.array(rejectedLine).describe(`refused lines (at most ${MAX_REJECTED_LISTED} listed), lines counted from 1`),
  rejectedCount: z.number().int().min(0).describe('every refused line, listed or not'),
  rejectedTruncated: z.literal(true).optional().describe(`present when refused lines were left out of rejected (more than ${MAX_REJECTED_LISTED}, or more than ${MAX_REJECTED_BYTES} bytes of errors)`),
  lines: z.number().int().min(0).describe('lines read, blank ones included'),
});
export type StreamSummary = z.infer<typeof streamSummarySchema>;

/**
 * The streaming ingest route, mounted at /v1/events/stream.
 *
 * @example
 * app.route('/v1/events/stream', eventStreamRoutes(deps.ingest, deps.options));
 */
export function eventStreamRoutes(ingest: IngestPort, options: EdgeOptions): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.post('/', async (c) => {
    // gzip is inflated as it is read; another Content-Encoding is a 415 (read-body.ts).
    const raw = bodyChunks(c.req.raw);
    // No deadline on the whole body (it is of any length), one on each wait for more bytes.
    const body = raw === null ? null : idleBounded(raw, options.bodyTimeoutMs ?? DEFAULT_IDLE_MS);
    const signal = c.req.raw.signal;
    // Retention as of the start of the stream, as for POST /v1/events (hardening, issue 12).
    const decodeOptions = { maxBatchEvents: 1, partitionKey: options.partitionKey ?? 'userId', ...acceptedInstants(options, (options.now ?? Date.now)()) } as const;
    const summary: StreamSummary = { accepted: 0, rejected: [], rejectedCount: 0, lines: 0 };
    // Listed: at most MAX_REJECTED_LISTED lines and MAX_REJECTED_BYTES of their errors.
    const budget = new RejectionBudget();
    const limit = ingest.eventSizeLimit?.();
    const reject = (line: number, errors: { path: string; message: string }[]): void => {
      summary.rejectedCount++;
      const bounded = boundErrors(errors);
      if (summary.rejected.length < MAX_REJECTED_LISTED && budget.take(bounded)) summary.rejected.push({ line, errors: bounded });
      else summary.rejectedTruncated = true;
    };

    let chunk: EncodedEvent[] = [];
    let inFlight: Promise<void> | undefined;
    let failure: unknown;
    const publish = (events: EncodedEvent[]): Promise<void> =>
      ingest.publish(events, signal).then(
        () => {
          summary.accepted += events.length;
        },
        (e: unknown) => {
          failure ??= e;
        },
      );
    const flush = async (): Promise<void> => {
      // At most one publish in flight: the next chunk waits for the one before it.
      await inFlight;
      if (failure !== undefined || chunk.length === 0) return;
      inFlight = publish(chunk);
      chunk = [];
    };

    const readLines = async (chunks: AsyncIterable<Uint8Array>): Promise<void> => {
      for await (const l of ndjsonLines(chunks, MAX_LINE_BYTES)) {
        summary.lines = l.line;
        if (l.tooLong) {
          reject(l.line, [{ path: '', message: `the line is longer than ${MAX_LINE_BYTES} bytes` }]);
          continue;
        }
        if (isBlank(l.bytes)) continue;
        if (l.bytes[firstNonBlank(l.bytes)] !== 0x7b) {
          reject(l.line, [{ path: '', message: 'each line must be one JSON object (an event)' }]);
          continue;
        }
        const d = decodeBody(l.bytes, decodeOptions);
        if (!d.ok) reject(l.line, [{ path: '', message: d.message }]);
        else if (d.rejected[0] !== undefined) reject(l.line, [...d.rejected[0].errors]);
        else if (d.events[0] !== undefined) {
          // Too large for one Kafka message: this line is refused, naming the limit; the rest goes on.
          const tooLarge = limit === undefined ? undefined : tooLargeMessage(d.events[0], limit);
          if (tooLarge === undefined) chunk.push(d.events[0]);
          else reject(l.line, [{ path: '', message: tooLarge }]);
        }
        if (chunk.length >= CHUNK_EVENTS) await flush();
        if (failure !== undefined) break;
      }
    };

    let stalled: RequestTimeoutError | undefined;
    if (body !== null) {
      try {
        await readLines(body);
      } catch (e) {
        // A stalled client: what was read is still published and counted in the answer.
        if (!(e instanceof RequestTimeoutError)) throw e;
        stalled = e;
      }
    }
    await flush();
    await inFlight;

    if (failure !== undefined) {
      options.onError?.(failure, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
      throw new KafkaUnavailableError(
        `Kafka stopped acknowledging after ${summary.accepted} events; the stream was not read further — resend it whole (events already accepted are not counted twice)`,
        { cause: failure, extra: summary },
      );
    }
    if (summary.accepted > 0) options.onAccepted?.(summary.accepted);
    if (summary.rejectedCount > 0) options.onRejected?.(summary.rejectedCount);
    if (stalled !== undefined) {
      throw new RequestTimeoutError(`${stalled.message}; the ${summary.accepted} events read before were accepted — resend the rest (or all of it: accepted events are not counted twice)`, { details: stalled.details, extra: summary });
    }
    if (summary.accepted === 0) {
      if (summary.rejectedCount === 0) throw new InvalidBodyError('the stream holds no event: send one JSON event per line', { extra: summary });
      throw new ValidationFailedError(`none of the ${summary.rejectedCount} lines is a valid event`, { extra: summary });
    }
    return c.json(summary, 202);
  });
  return app;
}

function isBlank(bytes: Uint8Array): boolean {
  return firstNonBlank(bytes) === bytes.byteLength;
}

function firstNonBlank(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.byteLength && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0d)) i++;
  return i;
}

/** /openapi.json's description of the route. */
export const eventStreamDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/events/stream',
    summary: 'Ingest an NDJSON stream of events, any length',
    description:
      'One event per line (lines count from 1, blank lines are skipped). Produced to Kafka as it is read; the edge reads no faster than Kafka acknowledges. ' +
      '`accepted` counts events Kafka acknowledged. On 503 the stream was cut where Kafka stopped acknowledging: resend it whole (identities make that safe).',
    bodyContentType: 'application/x-ndjson',
    responses: {
      202: { description: 'at least one event accepted', schema: streamSummarySchema },
      400: { description: 'no line is a valid event (a line whose event is larger than one Kafka message of the topic is refused by number, naming the limit)' },
      408: { description: 'no byte arrived for the body timeout (KEYFLOW_BODY_TIMEOUT_MS, per wait, not for the whole stream); `accepted` events were kept' },
      503: { description: 'Kafka stopped acknowledging; `accepted` events were kept' },
    },
    auth: 'ingest',
  },
];
