// The request and answer schemas of the Segment-compatible routes, as /openapi.json
// publishes them. Rule: a schema here says exactly what gets a 200 — the envelope is
// checked (a body that fails it is a 400), but a message inside is any JSON value, because
// one bad message is rejected by its index in a 200 and never fails its batch (an SDK drops
// a whole batch on a 400). What makes a message acceptable is the mapping (./map.ts),
// described in prose here.
import { z } from 'zod';
import { count, fieldErrorSchema } from '../openapi/schemas.ts';

/** Most messages in one batch. */
export const MAX_BATCH_MESSAGES = 1000;
/** Largest body, decompressed (Segment's limit): past it, a 400. */
export const MAX_SEGMENT_BODY_BYTES = 500 * 1024;
/** Largest message, as JSON text: past it, the message is rejected by its index. */
export const MAX_MESSAGE_BYTES = 32 * 1024;

const MESSAGE_RULES =
  'A Segment message (track, identify, page, screen, group, alias). keyflow takes it when it has a messageId (1..128 characters, the event id), ' +
  'a timestamp or originalTimestamp (RFC 3339), for track an event name (1..64), at most 64 properties once nested objects are flattened to dotted keys, ' +
  `and is at most ${MAX_MESSAGE_BYTES} bytes as JSON; any other message is listed in the answer's rejected by its index, and the rest of the batch is taken.`;

/** One message: any JSON value is answered 200 (taken, or rejected by index). */
export const segmentMessageSchema = z.unknown().meta({ id: 'SegmentMessage', description: MESSAGE_RULES });

const writeKey = z.string().meta({ description: 'The write key (an API key secret with only the ingest scope), when it is not sent as the HTTP Basic user' });

/** POST /v1/batch and /v1/b. */
export const segmentBatchBodySchema = z
  .looseObject({
    batch: z.array(segmentMessageSchema).max(MAX_BATCH_MESSAGES),
    writeKey: writeKey.optional(),
  })
  .meta({ id: 'SegmentBatch', description: 'A Segment batch: { batch: [message, …], writeKey?, sentAt?, context? }' });

/** POST /v1/track, /v1/t and the other single-message routes: one message object. */
export const segmentSingleBodySchema = z
  .looseObject({ writeKey: writeKey.optional() })
  .meta({ id: 'SegmentSingle', description: `${MESSAGE_RULES} The route names the call; a type field is ignored.` });

/** The 200 answer. */
export const segmentAnswerSchema = z
  .object({
    success: z.literal(true),
    accepted: count,
    rejected: z.array(z.object({ index: count, errors: z.array(fieldErrorSchema) })),
  })
  .meta({ id: 'SegmentAnswer', description: 'Every message taken was acknowledged by Kafka; the others are listed by index (0 for a single message)' });
