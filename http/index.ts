// The door of http/: what the composition root and tests may use.
export { createApp, notFound, openApiDocument } from './app.ts';
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
  EventListPage,
  EventListQuery,
  EventsReport,
  EventsReportQuery,
  HealthPort,
  IngestPort,
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
export { buildOpenApiDocument, openApiPath } from './openapi/document.ts';
export type { OpenApiDocument } from './openapi/document.ts';
export { allRouteDocs } from './openapi/routes.ts';
export type { RouteDoc, ResponseDoc, RouteAuth } from './openapi/route-doc.ts';
