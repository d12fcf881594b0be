// Segment-compatible ingestion (DESIGN.md): POST /v1/batch, /v1/track … and the browser's
// short forms, on the same publish path as POST /v1/events. Rules: a 200 means every
// message it counts as accepted was acknowledged by Kafka (publish resolved first); one bad
// message is rejected by its index and never fails its batch (the SDKs drop a whole batch
// on a 400, so a 400 is only for a body that is not a batch at all or is over 500 KiB);
// when Kafka or the rate limit refuses, the answer is a 503 or 429 with Retry-After, which
// the SDKs retry; the write key is an API key secret with the ingest scope and no other.
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { encodeEvent, partitionKeyOf } from '../../actors/index.ts';
import { acceptedInstants } from '../ingest/decode-body.ts';
import { ANONYMOUS } from '../auth/guard.ts';
import { keyTable } from '../auth/keys.ts';
import type { EdgeEnv } from '../env.ts';
import {
  HttpError,
  InvalidBodyError,
  InvalidJsonError,
  KafkaUnavailableError,
  PayloadTooLargeError,
  RateLimitedError,
  TooManyEventsError,
  UnauthorizedError,
} from '../errors.ts';
import { readBody } from '../ingest/read-body.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';
import type { EdgeOptions, EncodedEvent, IngestPort, RateLimitPort } from '../ports.ts';
import {
  mapMessage,
  MAX_BATCH_MESSAGES,
  MAX_MESSAGE_BYTES,
  MAX_SEGMENT_BODY_BYTES,
  SEGMENT_BATCH_PATHS,
  SEGMENT_CALL_PATHS,
  segmentAnswerSchema,
  segmentBatchBodySchema,
  segmentSingleBodySchema,
  type RejectReason,
  type SegmentCall,
} from '../segment/index.ts';

/** The source of every event when no API keys are configured. */
export const ANONYMOUS_SOURCE = 'segment';
const DEFAULT_BODY_TIMEOUT_MS = 15_000;
const CORS_HEADERS = ['Content-Type', 'Authorization', 'X-Retry-Count'];

/** The body is over 500 KiB once decompressed: Segment's limit, answered 400 as Segment does. */
export class SegmentBodyTooLargeError extends HttpError {
  override readonly name = 'SegmentBodyTooLargeError';
  readonly status = 400;
  readonly code = 'body_too_large';
}

/** The body's Content-Type is neither JSON nor text/plain. */
export class SegmentMediaTypeError extends HttpError {
  override readonly name = 'SegmentMediaTypeError';
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

type Answer = { success: true; accepted: number; rejected: { index: number; errors: readonly { path: string; message: string }[] }[] };

export type SegmentRouteOptions = Pick<EdgeOptions, 'apiKeys' | 'partitionKey' | 'retentionDays' | 'maxFutureMs' | 'bodyTimeoutMs' | 'now' | 'onAccepted' | 'onError' | 'corsOrigins' | 'onSegmentRejected'>;

const responses = {
  200: { description: 'Every message taken was acknowledged by Kafka; the others are listed by index', schema: segmentAnswerSchema },
  400: { description: 'Not JSON (invalid_json), not a batch or message object (invalid_body), more than 1000 messages (too_many_events), or over 500 KiB decompressed (body_too_large)', schema: errorSchema },
  401: { description: 'Keys are configured and the write key is missing, unknown, or an API key with a scope other than ingest (unauthorized)', schema: errorSchema },
  408: { description: 'The body did not arrive within KEYFLOW_BODY_TIMEOUT_MS (request_timeout)', schema: errorSchema },
  415: { description: 'A Content-Type other than application/json or text/plain, or a Content-Encoding other than gzip', schema: errorSchema },
  429: { description: 'The write key is over its rate limit (rate_limited), with Retry-After', schema: errorSchema },
  503: { description: 'Kafka did not acknowledge (kafka_unavailable), with Retry-After; nothing was accepted, a retry is safe', schema: errorSchema },
} as const;

const AUTH_NOTE = ' The write key travels as the HTTP Basic user (empty password) or as writeKey in the body; Content-Type application/json or text/plain; gzip bodies taken.';

/** How the Segment-compatible routes describe themselves in /openapi.json. */
export const segmentDocs: readonly RouteDoc[] = [
  ...SEGMENT_BATCH_PATHS.map((path): RouteDoc => ({
    method: 'post',
    path,
    summary: 'Segment-compatible batch of messages',
    description: `Segment's HTTP tracking API (analytics-node, analytics-next): each message becomes one event.${AUTH_NOTE}`,
    body: segmentBatchBodySchema,
    alsoBodyAs: ['text/plain'],
    auth: 'ingest',
    tags: ['segment'],
    responses,
  })),
  ...Object.entries(SEGMENT_CALL_PATHS).map(([path, call]): RouteDoc => ({
    method: 'post',
    path,
    summary: `Segment-compatible ${call} call`,
    description: `One Segment ${call} message becomes one event.${AUTH_NOTE}`,
    body: segmentSingleBodySchema,
    alsoBodyAs: ['text/plain'],
    auth: 'ingest',
    tags: ['segment'],
    responses,
  })),
];

/**
 * The Segment-compatible routes, CORS included (on these routes only).
 *
 * @example
 * app.route('/', segmentRoutes(deps.ingest, deps.options, deps.rateLimit));
 */
export function segmentRoutes(ingest: IngestPort, options: SegmentRouteOptions, rateLimit?: RateLimitPort): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  const keys = keyTable(options.apiKeys);
  const now = options.now ?? Date.now;
  const origins = options.corsOrigins ?? (keys.size > 0 ? ['*'] : []);
  const paths = [...SEGMENT_BATCH_PATHS, ...Object.keys(SEGMENT_CALL_PATHS)];
  if (origins.length > 0) {
    const policy = cors({
      origin: origins.includes('*') ? '*' : [...origins],
      allowMethods: ['POST'],
      allowHeaders: CORS_HEADERS,
      exposeHeaders: ['Retry-After'],
      maxAge: 600,
    });
    for (const p of paths) app.use(p, policy);
  }

  const handle = async (c: Context<EdgeEnv>, call: SegmentCall | undefined): Promise<Response> => {
    checkContentType(c.req.header('Content-Type'));
    const basicKey = basicUser(c.req.header('Authorization'));
    // A wrong key in the header is refused before the body is read.
    if (basicKey !== undefined && keys.size > 0) authenticate(c, basicKey);
    const body = await readJson(c.req.raw, options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
    const { messages, writeKey } = call === undefined ? batchOf(body) : singleOf(body);
    const source = keys.size === 0 ? ANONYMOUS_SOURCE : authenticate(c, basicKey ?? writeKey);
    // Without keys every request shares the anonymous bucket, as on the other routes.
    if (rateLimit !== undefined) await takeToken(rateLimit, keys.size === 0 ? ANONYMOUS : source);

    // The same accepted instants as POST /v1/events: inside retention, not beyond KEYFLOW_MAX_FUTURE.
    const retention = acceptedInstants(options, now());
    const events: EncodedEvent[] = [];
    const rejected: Answer['rejected'] = [];
    const reasons = new Map<RejectReason, number>();
    messages.forEach((message, index) => {
      const bytes = Buffer.byteLength(JSON.stringify(message) ?? '', 'utf8');
      const mapped = bytes > MAX_MESSAGE_BYTES
        ? ({ ok: false, reason: 'too_large', errors: [{ path: '(message)', message: `is ${bytes} bytes as JSON; at most ${MAX_MESSAGE_BYTES}` }] } as const)
        : mapMessage(message, { source, ...(call === undefined ? {} : { call }), ...retention });
      if (mapped.ok) {
        events.push({ id: mapped.event.id, key: partitionKeyOf(mapped.event, options.partitionKey ?? 'userId'), value: encodeEvent(mapped.event) });
      } else {
        rejected.push({ index, errors: mapped.errors });
        reasons.set(mapped.reason, (reasons.get(mapped.reason) ?? 0) + 1);
      }
    });
    for (const [reason, n] of reasons) options.onSegmentRejected?.(reason, n);

    if (events.length > 0) {
      try {
        await ingest.publish(events, c.req.raw.signal);
      } catch (cause) {
        options.onError?.(cause, { requestId: c.get('requestId'), method: c.req.method, path: c.req.path, key: source });
        throw new KafkaUnavailableError('Kafka did not acknowledge the messages; none was accepted, retry the whole request', { cause });
      }
      options.onAccepted?.(events.length);
    }
    const answer: Answer = { success: true, accepted: events.length, rejected };
    return c.json(answer, 200);
  };

  for (const p of SEGMENT_BATCH_PATHS) app.post(p, (c) => handle(c, undefined));
  for (const [p, call] of Object.entries(SEGMENT_CALL_PATHS)) app.post(p, (c) => handle(c, call));
  return app;

  /** The write key's name, or a 401; it names the key on the request for the guard's counts. */
  function authenticate(c: Context<EdgeEnv>, presented: string | undefined): string {
    if (presented === undefined || presented === '') {
      c.header('WWW-Authenticate', 'Basic realm="keyflow"');
      throw new UnauthorizedError('a write key is required: send it as the HTTP Basic user (empty password) or as writeKey in the body');
    }
    const found = keys.identify(presented);
    if (found === undefined) {
      c.header('WWW-Authenticate', 'Basic realm="keyflow"');
      throw new UnauthorizedError('the write key is not valid');
    }
    c.set('apiKeyName', found.name);
    if (found.scopes.length !== 1 || found.scopes[0] !== 'ingest') {
      // A write key is public in every browser that loads it: it may only ingest.
      throw new UnauthorizedError(
        `the API key "${found.name}" cannot be a write key: a write key must have the ingest scope and no other (it has ${found.scopes.join('+')}); configure a key with only ingest`,
        { details: { key: found.name, scopes: found.scopes, required: ['ingest'] } },
      );
    }
    return found.name;
  }
}

function checkContentType(header: string | undefined): void {
  if (header === undefined) return;
  const type = header.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === '' || type === 'application/json' || type === 'text/plain') return;
  throw new SegmentMediaTypeError(`Content-Type ${JSON.stringify(header.slice(0, 100))} is not taken here: send application/json or text/plain`, {
    details: { contentType: header.slice(0, 100), supported: ['application/json', 'text/plain'] },
  });
}

/** The user of `Authorization: Basic base64(user:password)`, or undefined. */
function basicUser(header: string | undefined): string | undefined {
  const m = /^Basic[ \t]+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (m?.[1] === undefined) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? decoded : decoded.slice(0, colon);
}

async function readJson(req: Request, deadlineMs: number): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await readBody(req, { maxBytes: MAX_SEGMENT_BODY_BYTES, deadlineMs });
  } catch (e) {
    if (e instanceof PayloadTooLargeError) {
      throw new SegmentBodyTooLargeError(`the body exceeds ${MAX_SEGMENT_BODY_BYTES} bytes (500 KiB) once decompressed; send smaller batches`, {
        details: { maxBodyBytes: MAX_SEGMENT_BODY_BYTES },
        cause: e,
      });
    }
    throw e;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new InvalidJsonError('the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InvalidJsonError(`the body is not valid JSON: ${(e as Error).message}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function batchOf(body: unknown): { messages: readonly unknown[]; writeKey: string | undefined } {
  const parsed = segmentBatchBodySchema.safeParse(body);
  if (!parsed.success) {
    const tooMany = parsed.error.issues.find((i) => i.code === 'too_big' && i.path.join('.') === 'batch');
    if (tooMany !== undefined && Array.isArray((body as { batch?: unknown }).batch)) {
      const received = (body as { batch: unknown[] }).batch.length;
      throw new TooManyEventsError(`a batch holds at most ${MAX_BATCH_MESSAGES} messages, this one ${received}`, { details: { maxBatchEvents: MAX_BATCH_MESSAGES, received } });
    }
    throw new InvalidBodyError(`the body must be a Segment batch: { "batch": [message, …], "writeKey"?: string } (${issues(parsed.error.issues)})`);
  }
  return { messages: parsed.data.batch, writeKey: parsed.data.writeKey };
}

function singleOf(body: unknown): { messages: readonly unknown[]; writeKey: string | undefined } {
  const parsed = segmentSingleBodySchema.safeParse(body);
  if (!parsed.success) throw new InvalidBodyError(`the body must be one Segment message (a JSON object; writeKey, when present, a string) (${issues(parsed.error.issues)})`);
  return { messages: [body], writeKey: parsed.data.writeKey };
}

function issues(list: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return list.slice(0, 3).map((i) => `${i.path.map(String).join('.') || '(body)'}: ${i.message}`).join('; ');
}

async function takeToken(rateLimit: RateLimitPort, key: string): Promise<void> {
  const d = await rateLimit.take(key);
  if (d === undefined || d.allowed) return;
  const retry = Math.max(1, Math.ceil(d.retryAfterSeconds));
  throw new RateLimitedError(`the write key "${key}" is over its rate limit of ${d.perSec} requests per second (burst ${d.burst}); retry in ${retry} s`, retry, {
    details: { key, perSec: d.perSec, burst: d.burst, retryAfterSeconds: retry },
  });
}
