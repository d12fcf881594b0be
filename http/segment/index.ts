// The door of http/segment: Segment messages mapped to keyflow events, the routes' schemas
// and paths.
export { mapMessage, MAX_PROPERTIES, REJECT_REASONS, SEGMENT_CALLS } from './map.ts';
export type { Mapped, MapOptions, RejectReason, SegmentCall } from './map.ts';
export { isSegmentPath, SEGMENT_BATCH_PATHS, SEGMENT_CALL_PATHS } from './paths.ts';
export {
  MAX_BATCH_MESSAGES,
  MAX_MESSAGE_BYTES,
  MAX_SEGMENT_BODY_BYTES,
  segmentAnswerSchema,
  segmentBatchBodySchema,
  segmentSingleBodySchema,
} from './schemas.ts';
