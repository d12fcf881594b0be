// The client's failures, one class each. Rule: a failure the client could retry is retried
// until its deadline, so a caller only ever sees these when retrying cannot help.

/** The server refused the request or the event (4xx other than the retryable ones). */
export class KeyflowRequestError extends Error {
  override readonly name = 'KeyflowRequestError';
  readonly code = 'KEYFLOW_CLIENT_REQUEST';
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** One event failed validation; `errors` says why, field by field. */
export class KeyflowEventRejectedError extends Error {
  override readonly name = 'KeyflowEventRejectedError';
  readonly code = 'KEYFLOW_CLIENT_EVENT_REJECTED';
  constructor(
    readonly eventId: string,
    readonly errors: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(`event ${JSON.stringify(eventId)} was rejected: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
}

/** Retrying did not succeed before the deadline (or the client was closed with it pending). */
export class KeyflowUnavailableError extends Error {
  override readonly name = 'KeyflowUnavailableError';
  readonly code = 'KEYFLOW_CLIENT_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
