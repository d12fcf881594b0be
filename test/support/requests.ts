// fast-check arbitraries for the HTTP fuzz: requests over the routes an app serves (random
// path segments, query strings, headers and bodies, valid events among them), and events as
// a producer could write them. Rule: generators only; what must hold is in the tests.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';

/** One HTTP request, as data (so a failure prints it). */
export type FuzzRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
};

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const nasty = fc.constantFrom('\u0000', '%', '%00', '%zz', '%ED%A0%80', '/', '..', '?', '#', '&', '=', ',', ' ', '+', '\u2028', '😀', '👍🏽', 'é', '__proto__', 'constructor', "'", '"', '\\', '0000-01-01T00:00:00Z', '-1', '1e400', '99999999999999999');
/** Any text: ordinary characters, odd ones, and pieces that break naive parsers. */
export const text = (maxLength = 24): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: loneSurrogate }, { weight: 2, arbitrary: nasty }), maxLength });

/** Percent-encode, writing a lone surrogate as the (invalid) UTF-8 of one, as a client could. */
const enc = (s: string): string =>
  Array.from(s)
    .map((ch) => (ch.length === 1 && ch.charCodeAt(0) >= 0xd800 && ch.charCodeAt(0) <= 0xdfff ? '%ED%A0%80' : encodeURIComponent(ch)))
    .join('');

/** A path segment: percent-encoded text, or raw pieces that are not valid encodings. */
const segment = fc.oneof(text(12).map(enc), fc.constantFrom('%00', '%zz', '%', 'a%00b', '..', '%2F', 'x'.repeat(300)));

/** A path built from a route template (`/v1/events/:id`): params replaced, sometimes more segments. */
const pathFrom = (template: string): fc.Arbitrary<string> =>
  fc.tuple(fc.array(segment, { minLength: 4, maxLength: 4 }), fc.array(segment, { maxLength: 2 }), fc.boolean()).map(([params, extra, slash]) => {
    let i = 0;
    const base = template.replace(/:\w+/g, () => params[i++ % params.length] ?? 'x').replace(/\*$/, params[3] ?? '');
    return `${base}${extra.map((s) => `/${s}`).join('')}${slash ? '/' : ''}`.replace(/^\/\//, '/');
  });

const PARAMS = ['from', 'to', 'source', 'type', 'funnelStage', 'groupBy', 'limit', 'cursor', 'format', 'interval', 'tz', 'steps', 'window', 'by', 'userId', 'events'];
const paramValue = fc.oneof(
  text(20),
  fc.constantFrom('2026-11-20T12:00:00Z', '0', '1', '1000', '1001', 'type,source', 'top', 'csv', '1m', 'UTC', 'Europe/Paris', 'a,b', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z', '10000-01-01T00:00:00Z', 'NaN', ''),
  fc.integer().map(String),
);
const query = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), text(8)), paramValue, fc.boolean()), { maxLength: 5 })
      .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v, raw]) => (raw ? `${k}=${v}`.replace(/[#\s]/g, '') : `${enc(k)}=${enc(v)}`)).join('&')}`)),
  },
);

/** Header values a client can actually send (visible Latin-1, no CR/LF). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const headers = fc.record(
  {
    'Content-Type': fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain', 'multipart/form-data; boundary=x', ''),
    'Content-Encoding': fc.constantFrom('gzip', 'br', 'identity', 'deflate', 'gzip, gzip', 'x-gzip', ''),
    Accept: fc.constantFrom('application/json', 'text/csv', '*/*', 'text/event-stream', ''),
    'X-Request-Id': headerValue,
    'X-API-Key': headerValue,
    Authorization: fc.oneof(headerValue.map((v) => `Bearer ${v}`), headerValue),
  },
  { requiredKeys: [] },
);

/** An event that passes the schema, within the retention window of `nowMs`. */
export const validEvent = (nowMs: number, idPrefix: string): fc.Arbitrary<Record<string, unknown>> => {
  const str = (min: number, max: number) => fc.string({ unit: 'binary', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000'));
  return fc
    .record(
      {
        id: str(1, 40).map((s) => `${idPrefix}${s}`),
        type: str(1, 64),
        source: str(1, 64),
        occurredAt: fc.oneof(
          fc.integer({ min: nowMs - 20 * 86_400_000, max: nowMs + 86_400_000 }),
          fc.tuple(fc.integer({ min: nowMs - 20 * 86_400_000, max: nowMs }), fc.constantFrom('Z', '+05:30', '-08:00', '+00:00')).map(([ms, off]) => {
            const iso = new Date(ms).toISOString();
            if (off === 'Z') return iso;
            const sign = off[0] === '-' ? -1 : 1;
            const shift = sign * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6))) * 60_000;
            return new Date(ms + shift).toISOString().replace('Z', off);
          }),
        ),
        userId: str(1, 128),
        sessionId: str(1, 128),
        funnelStage: fc.constantFrom('top', 'bottom'),
        revenue: fc.record({ amount: fc.double({ min: -1e12, max: 1e12, noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)), currency: fc.constantFrom('USD', 'EUR', 'JPY') }),
        user: fc.record({ age: fc.integer({ min: 0, max: 150 }), gender: str(1, 32), country: str(1, 64), city: str(1, 128) }, { requiredKeys: [] }),
        properties: fc.dictionary(
          str(1, 64).filter((k) => k !== '__proto__'),
          fc.oneof(str(0, 60), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)), fc.boolean(), fc.constant(null)),
          { maxKeys: 8 },
        ),
      },
      { requiredKeys: ['id', 'type', 'source', 'occurredAt'] },
    )
    .map((e) => (e.user !== undefined && Object.keys(e.user).length === 0 ? { ...e, user: { age: 30 } } : e));
};

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
/** A body: events valid and not, any JSON, bytes, gzip of them, nothing. */
const body = (nowMs: number): fc.Arbitrary<Uint8Array | undefined> => {
  const plain = fc.oneof(
    validEvent(nowMs, 'fz-').map(json),
    fc.array(validEvent(nowMs, 'fz-'), { maxLength: 3 }).map(json),
    fc.jsonValue({ maxDepth: 3 }).map(json),
    fc.record({ events: fc.jsonValue({ maxDepth: 2 }) }).map(json),
    fc.uint8Array({ maxLength: 64 }),
    text(40).map((s) => new TextEncoder().encode(s)),
    fc.constantFrom('{"id":"p","type":"t","source":"s","occurredAt":0,"properties":{"__proto__":{"x":1}}}', '{"__proto__":[]}', '[', '{"events":[]}', '').map((s) => new TextEncoder().encode(s)),
  );
  return fc.oneof({ weight: 5, arbitrary: plain }, { weight: 1, arbitrary: plain.map((b) => new Uint8Array(gzipSync(b))) }, { weight: 1, arbitrary: fc.constant(undefined) });
};

/**
 * Requests over `templates` (the app's own route paths, e.g. from `app.routes`) and a few
 * paths no route serves.
 */
export const requests = (templates: readonly string[], nowMs: number): fc.Arbitrary<FuzzRequest> =>
  fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      path: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...templates).chain(pathFrom) }, { weight: 1, arbitrary: fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`) }),
      query,
      headers,
      body: body(nowMs),
    })
    .map(({ method, path, query: q, headers: h, body: b }) => {
      const clean = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ''));
      const withBody = b !== undefined && method !== 'GET' && method !== 'HEAD';
      return { method, path: `${path}${q}`, headers: clean, ...(withBody ? { body: b } : {}) };
    });
