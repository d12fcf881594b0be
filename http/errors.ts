// Every failure the edge can answer with, one class each, and the one JSON shape they all
// take on the wire. Rule: every error response — bad input, auth, unknown route, a crashed
// handler — is `{ "error": { "code", "message", "details"? } }` with a stable code, and an
// unexpected error never leaks its message or stack to the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The wire shape of every error answer. Some answers add fields beside `error`. */
export type ErrorBody = {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
};

type HttpErrorOptions = {
  readonly details?: unknown;
  readonly cause?: unknown;
  /** Fields the body carries beside `error` (e.g. the ingest summary of a 400 or 503). */
  readonly extra?: Readonly<Record<string, unknown>>;
};

/** A failure with an HTTP status and a stable, machine-readable `code`. */
export abstract class HttpError extends Error {
  abstract readonly status: ContentfulStatusCode;
  abstract readonly code: string;
  /** When set, the answer carries `Retry-After` with this many seconds. */
  readonly retryAfterSeconds: number | undefined = undefined;
  readonly details: unknown;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
    this.extra = options.extra ?? {};
  }

  /** The JSON body of this error. */
  toBody(): ErrorBody & Record<string, unknown> {
    const error = this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
    return { ...this.extra, error };
  }
}

/** The body is not JSON (or not UTF-8). */
export class InvalidJsonError extends HttpError {
  override readonly name = 'InvalidJsonError';
  readonly status = 400;
  readonly code = 'invalid_json';
}

/** The body is JSON but none of the accepted shapes. */
export class InvalidBodyError extends HttpError {
  override readonly name = 'InvalidBodyError';
  readonly status = 400;
  readonly code = 'invalid_body';
}

/** Not one event of the request passed the schema. */
export class ValidationFailedError extends HttpError {
  override readonly name = 'ValidationFailedError';
  readonly status = 400;
  readonly code = 'validation_failed';
}

/** A query string parameter is missing, malformed or out of range. */
export class InvalidQueryError extends HttpError {
  override readonly name = 'InvalidQueryError';
  readonly status = 400;
  readonly code = 'invalid_query';
}

/** API keys are configured and the request carries none of them. */
export class UnauthorizedError extends HttpError {
  override readonly name = 'UnauthorizedError';
  readonly status = 401;
  readonly code = 'unauthorized';
}

/** The request carries a valid API key that lacks the route's scope. */
export class ForbiddenError extends HttpError {
  override readonly name = 'ForbiddenError';
  readonly status = 403;
  readonly code = 'forbidden';
}

/** No API keys are configured and the request's Host is not loopback (DNS rebinding). */
export class ForeignHostError extends HttpError {
  override readonly name = 'ForeignHostError';
  readonly status = 403;
  readonly code = 'forbidden_host';
}

/** The body's Content-Type is not one the route reads (keyless ingest: JSON or NDJSON only). */
export class UnsupportedMediaTypeError extends HttpError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** The API key's token bucket is empty. */
export class RateLimitedError extends HttpError {
  override readonly name = 'RateLimitedError';
  readonly status = 429;
  readonly code = 'rate_limited';
  override readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, options: HttpErrorOptions = {}) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A path segment cannot be a value keyflow stores (NUL, an unpaired surrogate). */
export class InvalidPathError extends HttpError {
  override readonly name = 'InvalidPathError';
  readonly status = 400;
  readonly code = 'invalid_path';
}

/** A value PostgreSQL refused as data (a safety net: validation should have caught it). */
export class InvalidInputError extends HttpError {
  override readonly name = 'InvalidInputError';
  readonly status = 400;
  readonly code = 'invalid_input';
}

/** The client did not send the whole body before the body deadline. */
export class RequestTimeoutError extends HttpError {
  override readonly name = 'RequestTimeoutError';
  readonly status = 408;
  readonly code = 'request_timeout';
}

/** The body is in a Content-Encoding keyflow does not decode. */
export class UnsupportedEncodingError extends HttpError {
  override readonly name = 'UnsupportedEncodingError';
  readonly status = 415;
  readonly code = 'unsupported_encoding';
}

/** The path exists, but not for this method. */
export class MethodNotAllowedError extends HttpError {
  override readonly name = 'MethodNotAllowedError';
  readonly status = 405;
  readonly code = 'method_not_allowed';
  /** The methods the path serves, for the `Allow` header. */
  readonly allow: readonly string[];
  constructor(message: string, allow: readonly string[], options: HttpErrorOptions = {}) {
    super(message, { details: { allow }, ...options });
    this.allow = allow;
  }
}

/** No such route, or no such resource. */
export class NotFoundError extends HttpError {
  override readonly name = 'NotFoundError';
  readonly status = 404;
  readonly code = 'not_found';
}

/** The body is larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  override readonly name = 'PayloadTooLargeError';
  readonly status = 413;
  readonly code = 'payload_too_large';
}

/** An event is larger than one Kafka message may be on the events topic; nothing of the request was produced. */
export class EventTooLargeError extends HttpError {
  override readonly name = 'EventTooLargeError';
  readonly status = 413;
  readonly code = 'event_too_large';
}

/** The batch holds more events than allowed. */
export class TooManyEventsError extends HttpError {
  override readonly name = 'TooManyEventsError';
  readonly status = 413;
  readonly code = 'too_many_events';
}

/** Kafka did not acknowledge the events; nothing of the request was accepted. */
export class KafkaUnavailableError extends HttpError {
  override readonly name = 'KafkaUnavailableError';
  readonly status = 503;
  readonly code = 'kafka_unavailable';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/** A dependency the service needs is not ready. */
export class NotReadyError extends HttpError {
  override readonly name = 'NotReadyError';
  readonly status = 503;
  readonly code = 'not_ready';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/**
 * A read ran past KEYFLOW_QUERY_TIMEOUT_MS (PostgreSQL ended it) or was cancelled because its
 * client went away: the store is too busy for it now.
 */
export class QueryTimeoutError extends HttpError {
  override readonly name = 'QueryTimeoutError';
  readonly status = 503;
  readonly code = 'query_timeout';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/** A bug or broken infrastructure; the message the client sees is generic. */
export class InternalError extends HttpError {
  override readonly name = 'InternalError';
  readonly status = 500;
  readonly code = 'internal';
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Answer with an error in the common shape. An HttpError answers as itself; a Hono
 * HTTPException keeps its status; anything else becomes a generic 500.
 *
 * @example
 * app.onError((err, c) => errorResponse(c, err));
 */
export function errorResponse(c: Context, err: unknown): Response {
  const e = toHttpError(err);
  if (e.retryAfterSeconds !== undefined) c.header('Retry-After', String(e.retryAfterSeconds));
  if (e instanceof MethodNotAllowedError) c.header('Allow', e.allow.join(', '));
  // The rest of an oversized body may still be in flight; the server drops the connection
  // after answering, so tell the client not to reuse it for its next request.
  if (e.status === 413 || e.status === 408) c.header('Connection', 'close');
  return c.json(e.toBody(), e.status);
}

/** Whether an error is one the edge answers on purpose (not a 500). */
export function isExpected(err: unknown): boolean {
  return err instanceof HttpError || (err instanceof HTTPException && err.status < 500);
}

function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof HTTPException) return fromHttpException(err);
  if (isPostgresDataException(err)) return new InvalidInputError('a value of the request is not one PostgreSQL can take', { cause: err });
  if (isPostgresError(err, '57014')) return new QueryTimeoutError('the query took longer than the statement timeout allows (KEYFLOW_QUERY_TIMEOUT_MS) or was cancelled; try a shorter window or later', { cause: err });
  return new InternalError('internal server error', { cause: err });
}

/**
 * PostgreSQL's class 22 (data exception: 22021 bad character, 22008 date out of range…) is
 * raised by the values a request sent, never by the store being down: a 400, not a 500.
 */
function isPostgresDataException(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === 'PostgresError' && typeof e.code === 'string' && e.code.startsWith('22');
}

/** PostgreSQL's 57014 (query_canceled): statement_timeout, or a cancel request. */
function isPostgresError(err: unknown, code: string): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === 'PostgresError' && e.code === code;
}

const statusCodes: Partial<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

class GenericHttpError extends HttpError {
  override readonly name = 'GenericHttpError';
  readonly status: ContentfulStatusCode;
  readonly code: string;
  constructor(status: ContentfulStatusCode, code: string, message: string, cause: unknown) {
    super(message, { cause });
    this.status = status;
    this.code = code;
  }
}

function fromHttpException(err: HTTPException): HttpError {
  const status = err.status as ContentfulStatusCode;
  if (status >= 500) return new InternalError('internal server error', { cause: err });
  return new GenericHttpError(status, statusCodes[status] ?? 'http_error', err.message || 'request failed', err);
}

/** Redis, which holds the live view, did not answer. */
export class LiveUnavailableError extends HttpError {
  override readonly name = 'LiveUnavailableError';
  readonly status = 503;
  readonly code = 'redis_unavailable';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/** Kafka's admin API did not answer. */
export class LagUnavailableError extends HttpError {
  override readonly name = 'LagUnavailableError';
  readonly status = 503;
  readonly code = 'kafka_unavailable';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}

/** As many stream clients as allowed are connected already. */
export class TooManyStreamsError extends HttpError {
  override readonly name = 'TooManyStreamsError';
  readonly status = 503;
  readonly code = 'too_many_streams';
  override readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
}
