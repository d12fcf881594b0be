// The console's only way to keyflow: same-origin fetches that carry the operator's API key.
// Rule: the key lives in sessionStorage only (this tab, gone when it closes), is sent only as
// `Authorization: Bearer`, and every non-2xx answer becomes an ApiError that says the status,
// the code and keyflow's own message. EventSource cannot send headers, so /v1/stream is
// read with fetch and a ReadableStream.

const KEY_ITEM = 'keyflow.apiKey';

/** The key kept for this tab, or '' when none. */
export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_ITEM) ?? '';
  } catch {
    return '';
  }
}

/** Keep `key` for this tab ('' forgets it). */
export function setApiKey(key) {
  if (key === '') sessionStorage.removeItem(KEY_ITEM);
  else sessionStorage.setItem(KEY_ITEM, key);
}

/** A failed call: `status` 0 means keyflow did not answer at all. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function headers(extra = {}) {
  const key = apiKey();
  return key === '' ? { ...extra } : { ...extra, Authorization: `Bearer ${key}` };
}

async function toApiError(res) {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'object' && body.error !== null) {
      return new ApiError(res.status, String(body.error.code ?? 'error'), String(body.error.message ?? res.statusText), body.error.details);
    }
  } catch {
    // not JSON: show the text itself
  }
  return new ApiError(res.status, 'http_' + res.status, text.trim().slice(0, 300) || res.statusText || 'request failed');
}

/**
 * GET a JSON resource of keyflow.
 *
 * @example
 * const report = await getJson('/v1/reports/events', { groupBy: 'type,source' });
 */
export async function getJson(path, query = {}, signal = undefined) {
  const qs = new URLSearchParams(query).toString();
  let res;
  try {
    res = await fetch(qs === '' ? path : `${path}?${qs}`, { headers: headers({ Accept: 'application/json' }), cache: 'no-store', signal });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', `keyflow did not answer (${e?.message ?? e})`);
  }
  if (!res.ok) throw await toApiError(res);
  return res.json();
}

/**
 * Read a server-sent event stream until it ends or `signal` aborts; call `onEvent(name, data, id)`
 * for each event. Resolves when the server closes the stream; rejects with ApiError when it
 * refuses it.
 *
 * @example
 * await readStream('/v1/stream', (name, data) => name === 'summary' && show(JSON.parse(data)), signal);
 */
export async function readStream(path, onEvent, signal) {
  let res;
  try {
    res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), cache: 'no-store', signal });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, 'unreachable', `keyflow did not answer (${e?.message ?? e})`);
  }
  if (!res.ok) throw await toApiError(res);
  if (!(res.headers.get('Content-Type') ?? '').startsWith('text/event-stream') || res.body === null) {
    throw new ApiError(res.status, 'not_a_stream', `${path} did not answer with text/event-stream`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    // A lone trailing \r may be the first half of \r\n: keep it for the next chunk.
    buffer = (buffer + value).replace(/\r\n/g, '\n').replace(/\r(?!$)/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end), onEvent);
      buffer = buffer.slice(end + 2);
    }
  }
}

function dispatch(block, onEvent) {
  let name = 'message';
  let id = '';
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length > 0) onEvent(name, data.join('\n'), id);
}
