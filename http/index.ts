// The door of http/: what the composition root and tests may use.
export { createApp, answerErrors, openApiDocument } from './app.ts';
export { deriveInternalToken, INTERNAL_TOKEN_HEADER, requiredAccess, ACCESS_RULES } from './auth/index.ts';
export { serveApp } from './serve.ts';
export type { Fetchable, ServedApp, ServeOptions } from './serve.ts';
export { decodeBody } from './ingest/decode-body.ts';
export type { DecodeOptions } from './ingest/decode-body.ts';
export type {
  ActorsPort,
  ApiKey,
  BodyDecoder,
  PerRequestDecodeOptions,
  RateLimitDecision,
  RateLimitPort,
  Scope,
  DecodedBody,
  EncodedEvent,
  ActorView,
  DeadLetter,
  DeadLetterPage,
  DeadLetterQuery,
  EdgeDeps,
  EdgeOptions,
  EventListPage,
  EventListQuery,
  EventsReport,
  EventsReportQuery,
  HealthPort,
  IngestPort,
  EventSizeLimit,
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
  UserProfile,
} from './ports.ts';
export {
  HttpError,
  InternalError,
  QueryTimeoutError,
  InvalidBodyError,
  InvalidJsonError,
  InvalidQueryError,
  KafkaUnavailableError,
  NotFoundError,
  NotReadyError,
  PayloadTooLargeError,
  TooManyEventsError,
  EventTooLargeError,
  UnauthorizedError,
  ValidationFailedError,
  ForbiddenError,
  RateLimitedError,
  InvalidPathError,
  InvalidInputError,
  RequestTimeoutError,
  UnsupportedEncodingError,
  RETRY_AFTER_SECONDS,
} from './errors.ts';
export type { ErrorBody } from './errors.ts';
export type { EdgeEnv } from './env.ts';
export type { IngestSummary, RejectedEvent } from './routes/events.ts';
export { buildOpenApiDocument, openApiPath } from './openapi/document.ts';
export type { OpenApiDocument } from './openapi/document.ts';
export { allRouteDocs } from './openapi/routes.ts';
export type { RouteDoc, ResponseDoc, RouteAuth } from './openapi/route-doc.ts';
