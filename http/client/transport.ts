// One HTTP call of the client, retried. Rule: a request is sent again, unchanged, after a
// retryable answer or a network failure, until it succeeds or `deadlineMs` has passed since
// the first try; identities in the body make that safe for ingestion.
import { KeyflowRequestError, KeyflowUnavailableError } from './errors.ts';
import { isRetryableStatus, retryDelayMs, sleep, type BackoffOptions } from './retry.ts';

export type TransportOptions = {
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly fetch?: typeof fetch;
  readonly backoff?: BackoffOptions;
  /** Longest time one call keeps retrying, ms (default 120,000). */
  readonly deadlineMs?: number;
  /** Told about every retry (for logs and metrics). */
  readonly onRetry?: (info: { readonly attempt: number; readonly status?: number; readonly error?: unknown; readonly delayMs: number }) => void;
};

export type Answer = { readonly status: number; readonly headers: Headers; readonly body: unknown; readonly text: string };

/** An HTTP call with the client's retries; the body is JSON-parsed when it is JSON. */
export async function call(
  o: TransportOptions,
  method: string,
  path: string,
  init: { body?: () => string | ReadableStream<Uint8Array>; headers?: Record<string, string>; accept?: (status: number) => boolean; signal?: AbortSignal } = {},
): Promise<Answer> {
  const doFetch = o.fetch ?? globalThis.fetch;
  const deadline = Date.now() + (o.deadlineMs ?? 120_000);
  const accept = init.accept ?? ((s: number) => s >= 200 && s < 300);
  for (let attempt = 1; ; attempt++) {
    let status: number | undefined;
    let error: unknown;
    let retryAfter: string | null = null;
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
      if (o.apiKey !== undefined) headers['authorization'] = `Bearer ${o.apiKey}`;
      const body = init.body?.();
      const res = await doFetch(new URL(path, o.baseUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      } as RequestInit);
      const text = await res.text();
      const parsed = parse(text, res.headers.get('content-type'));
      if (accept(res.status)) return { status: res.status, headers: res.headers, body: parsed, text };
      if (!isRetryableStatus(res.status)) {
        const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
        throw new KeyflowRequestError(`${method} ${path} answered ${res.status}: ${message}`, res.status, parsed);
      }
      status = res.status;
      retryAfter = res.headers.get('retry-after');
    } catch (e) {
      if (e instanceof KeyflowRequestError || init.signal?.aborted) throw e;
      error = e;
    }
    const delayMs = retryDelayMs(attempt, retryAfter, o.backoff);
    if (Date.now() + delayMs > deadline) {
      throw new KeyflowUnavailableError(`${method} ${path} did not succeed within ${o.deadlineMs ?? 120_000} ms (${attempt} attempts; last: ${status ?? String(error)})`, { cause: error });
    }
    o.onRetry?.({ attempt, ...(status === undefined ? { error } : { status }), delayMs });
    await sleep(delayMs, init.signal);
  }
}

function parse(text: string, contentType: string | null): unknown {
  if (contentType?.includes('json') !== true || text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
