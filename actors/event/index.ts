export { eventSchema } from './schema.ts';
export type { EventInput, KeyflowEvent, FieldError } from './schema.ts';
export { validateEvent, decodeEvent, encodeEvent, partitionKeyOf, identityOf, MAX_EVENT_BYTES } from './validate.ts';
export type { Validation, ValidateOptions, Decoded, DecodeOptions, PartitionKeyMode } from './validate.ts';
export { isStorableText, codePointLength, truncateCodePoints, UNSTORABLE_MESSAGE } from './text.ts';
export { retentionCutoffMs, expiredMessage, futureCutoffMs, futureMessage } from './retention.ts';
