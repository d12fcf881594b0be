// The door of http/: what the composition root and tests may use.
export { createApp } from './app.ts';
export { serveApp } from './serve.ts';
export type { Fetchable, ServedApp, ServeOptions } from './serve.ts';
export { decodeBody } from './ingest/decode-body.ts';
export type { DecodeOptions } from './ingest/decode-body.ts';
export type {
  ActorsPort,
  BodyDecoder,
  DecodedBody,
  EncodedEvent,
  ActorView,
  DeadLetter,
  DeadLetterPage,
  DeadLetterQuery,
  EdgeDeps,
  EdgeOptions,
  EventsReport,
  EventsReportQuery,
  HealthPort,
  IngestPort,
  LagReport,
  LiveEvent,
  LivePort,
  LiveSummary,
  PartitionLag,
  StreamOptions,
  MetricsPort,
  QueryPort,
  Readiness,
  ReportDimension,
  RequestInfo,
  StoredEvent,
} from './ports.ts';
export {
  HttpError,
  InternalError,
  InvalidBodyError,
  InvalidJsonError,
  InvalidQueryError,
  KafkaUnavailableError,
  NotFoundError,
  NotReadyError,
  PayloadTooLargeError,
  TooManyEventsError,
  UnauthorizedError,
  ValidationFailedError,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
export type { ErrorBody } from './errors.ts';
export type { EdgeEnv } from './env.ts';
export type { IngestSummary, RejectedEvent } from './routes/events.ts';
export { openApiDocument } from './openapi.ts';
