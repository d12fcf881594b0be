// Reading a request body, bounded in size and in time. Rule: the edge never holds more than
// `maxBytes` of a body, compressed or decompressed (a gzip bomb stops at the limit: 413), it
// decodes only the encodings it knows (gzip, identity; anything else is a 415 before a byte
// is read), and a body that is not complete by the deadline is a 408 — a client trickling
// bytes cannot hold a request open for ever.
import { Readable, pipeline } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { InvalidBodyError, PayloadTooLargeError, RequestTimeoutError, UnsupportedEncodingError } from '../errors.ts';

const gunzipAsync = promisify(gunzip);

export type ReadBodyOptions = {
  /** Largest body, in bytes, both as sent and once decompressed. */
  readonly maxBytes: number;
  /** The whole body must have arrived within this many ms of the start of the read. */
  readonly deadlineMs: number;
};

/**
 * Read the whole body of `req` as bytes, gunzipped when `Content-Encoding: gzip`.
 *
 * @example
 * const bytes = await readBody(c.req.raw, { maxBytes: 1 << 20, deadlineMs: 15_000 });
 */
export async function readBody(req: Request, o: ReadBodyOptions): Promise<Uint8Array> {
  const encoding = contentEncoding(req.headers.get('Content-Encoding'));
  const declared = req.headers.get('Content-Length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > o.maxBytes) tooLarge(o.maxBytes);
  const raw = await readBounded(req, o);
  if (encoding === 'identity') return raw;
  try {
    // maxOutputLength stops inflating at the limit: the edge never holds a bomb's output.
    return new Uint8Array(await gunzipAsync(raw, { maxOutputLength: o.maxBytes }));
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') tooLarge(o.maxBytes, true);
    throw new InvalidBodyError(`the body is not valid gzip: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The body of `req` as a stream of decoded chunks, for bodies of any length (NDJSON): gunzipped
 * as it is read when `Content-Encoding: gzip` (memory bounded by the reader, not by the body),
 * a 415 for another encoding before a byte is read, a 400 when the gzip data is corrupt.
 *
 * @example
 * const chunks = bodyChunks(c.req.raw);
 * if (chunks !== null) for await (const l of ndjsonLines(chunks, 256 * 1024)) …
 */
export function bodyChunks(req: Request): AsyncIterable<Uint8Array> | null {
  const encoding = contentEncoding(req.headers.get('Content-Encoding'));
  const body = req.body;
  if (body === null || encoding === 'identity') return body;
  return gunzipped(body);
}

/**
 * `chunks`, failing with a 408 when no chunk arrives for `idleMs`: a stream may last as long
 * as it keeps sending (an hour-long NDJSON upload is fine), a stalled one cannot hold the
 * request open for ever.
 *
 * @example
 * for await (const chunk of idleBounded(bodyChunks(req)!, 15_000)) …
 */
export async function* idleBounded(chunks: AsyncIterable<Uint8Array>, idleMs: number): AsyncGenerator<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RequestTimeoutError(`no byte of the stream arrived for ${idleMs} ms`, { details: { bodyTimeoutMs: idleMs } })), idleMs);
      });
      const next = await Promise.race([it.next(), idle]);
      clearTimeout(timer);
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    // Stop the source (a pending read of a stalled client is abandoned with the connection).
    void it.return?.().catch(() => undefined);
  }
}

async function* gunzipped(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const inflate = createGunzip();
  // pipeline destroys the inflater with the source's error (a client that went away).
  pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), inflate, () => undefined);
  try {
    for await (const chunk of inflate) yield chunk as Uint8Array;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) throw new InvalidBodyError(`the body is not valid gzip: ${(e as Error).message}`, { cause: e });
    throw e;
  }
}

function contentEncoding(header: string | null): 'identity' | 'gzip' {
  const codings = (header ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '' && s !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  throw new UnsupportedEncodingError(`Content-Encoding ${JSON.stringify(header)} is not supported: send the body as is or gzip-compressed`, {
    details: { contentEncoding: header, supported: ['gzip', 'identity'] },
  });
}

async function readBounded(req: Request, o: ReadBodyOptions): Promise<Uint8Array> {
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RequestTimeoutError(`the body did not arrive within ${o.deadlineMs} ms`, { details: { bodyTimeoutMs: o.deadlineMs } })), o.deadlineMs);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      total += value.byteLength;
      // Counted while reading: a Content-Length that lied, or none, changes nothing.
      if (total > o.maxBytes) tooLarge(o.maxBytes);
      chunks.push(value);
    }
  } catch (e) {
    // Stop reading what is left; the answer closes the connection (errorResponse).
    try {
      reader.releaseLock();
    } catch {
      // a read still pending keeps the lock; the connection closes after the answer anyway
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number, decompressed = false): never {
  throw new PayloadTooLargeError(`the body exceeds ${maxBytes} bytes${decompressed ? ' once decompressed' : ''}`, { details: { maxBodyBytes: maxBytes } });
}
