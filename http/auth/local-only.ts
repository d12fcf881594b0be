// What a keyflow without API keys still refuses (DESIGN.md, Security: closed unless opened on
// purpose). Rule: with no keys, a request is served only when its Host names a loopback
// address — a page on another site that rebinds its DNS name to 127.0.0.1 sends its own name
// as Host, and gets a 403 — and the ingest routes take only JSON or NDJSON bodies, so a
// browser's "simple" cross-site POST (text/plain, a form, no type) ingests nothing (415).
// KEYFLOW_AUTH=none (openToNetwork) lifts the Host rule, never the content-type rule.
import { ForeignHostError, UnsupportedMediaTypeError } from '../errors.ts';

/** The routes of keyflow's own ingest format (Segment's routes have their own rules). */
export const KEYLESS_INGEST_PATHS: readonly string[] = ['/v1/events', '/v1/events/stream'];

/** The media types (without parameters) the keyless ingest routes read. */
export const INGEST_MEDIA_TYPES: readonly string[] = ['application/json', 'application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];

/**
 * Whether a host name or address is loopback: `localhost` and `*.localhost`, 127.0.0.0/8,
 * ::1 (in brackets or not, any spelling) and ::ffff:127.x. A trailing dot is ignored.
 *
 * @example
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('[::1]'); // true
 * isLoopbackHost('0.0.0.0'); // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^(?:0{0,4}:){2,7}0{0,3}1$/.test(h) || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Throw the refusal a keyless keyflow owes this request, if any.
 *
 * @example
 * checkKeyless({ method: 'POST', path: '/v1/events', url: 'http://evil.example/v1/events', contentType: 'text/plain', openToNetwork: false });
 * // throws ForeignHostError (403 forbidden_host)
 */
export function checkKeyless(r: { readonly method: string; readonly path: string; readonly url: string; readonly contentType: string | undefined; readonly openToNetwork: boolean }): void {
  if (!r.openToNetwork) {
    // The edge builds the URL from the Host header; an unparsable one is not loopback either.
    let host = '';
    try {
      host = new URL(r.url).hostname;
    } catch {
      host = '';
    }
    if (!isLoopbackHost(host)) {
      throw new ForeignHostError('without API keys keyflow serves loopback clients only, and this request names another host (set KEYFLOW_API_KEYS to serve the network)', {
        details: { host: host.slice(0, 255) },
      });
    }
  }
  if (r.method.toUpperCase() === 'POST' && KEYLESS_INGEST_PATHS.includes(r.path)) {
    const type = (r.contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!INGEST_MEDIA_TYPES.includes(type)) {
      throw new UnsupportedMediaTypeError(`without API keys ${r.path} takes only ${INGEST_MEDIA_TYPES.join(', ')} bodies; the Content-Type was ${type === '' ? 'missing' : `"${type.slice(0, 100)}"`}`, {
        details: { contentType: type === '' ? null : type.slice(0, 100), accepted: INGEST_MEDIA_TYPES },
      });
    }
  }
}
