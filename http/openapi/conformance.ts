// Checks real answers against the document the server publishes. Rule: an answer conforms
// only if its route, status and content type are in /openapi.json and its JSON body is valid
// under the published schema (JSON Schema 2020-12, as OpenAPI 3.1 says); an answer on a path
// the document does not know must be an error in the common shape. Used by tests only
// (ajv is a devDependency): http/test-helpers.ts runs every app.request() answer through it,
// and test/openapi-conformance.test.ts every route of a real keyflow process.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

type Json = Record<string, unknown>;

/** What the checker needs of an answer. */
export type Answer = {
  readonly method: string;
  /** The request path, without the query string. */
  readonly path: string;
  readonly status: number;
  /** The Content-Type header, or null. */
  readonly contentType: string | null;
  /** The parsed JSON body, for JSON answers; ignored otherwise. */
  readonly body?: unknown;
};

/** Which documented operation and response an answer was checked against. */
export type Checked = {
  /** `GET /v1/events/{id}`, or null when the path is not documented. */
  readonly operation: string | null;
  /** The response key used: a status (`'200'`) or `'default'`. */
  readonly response: string | null;
  /** Empty when the answer conforms. */
  readonly errors: readonly string[];
};

export type ResponseChecker = {
  /** Every `METHOD path` the document describes. */
  readonly operations: readonly string[];
  /** Whether the documented response of this answer is JSON (so its body must be read). */
  expectsJson(method: string, path: string, status: number, contentType: string | null): boolean;
  check(answer: Answer): Checked;
};

const COMPONENTS_ID = 'keyflow:components';
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head']);

type Operation = { readonly key: string; readonly method: string; readonly matcher: RegExp; readonly literals: number; readonly responses: Record<string, Json> };

/**
 * A checker for one OpenAPI 3.1 document. Each response schema is compiled when an answer
 * first needs it (compiling them all takes seconds); with `eager`, all are compiled at once.
 * Throws when a schema does not compile (an unknown keyword or format, a dangling `$ref`):
 * that is a broken document.
 *
 * @example
 * const checker = responseChecker(await (await app.request('/openapi.json')).json());
 * checker.check({ method: 'GET', path: '/healthz', status: 200, contentType: 'application/json', body: { status: 'ok' } }).errors; // []
 */
export function responseChecker(document: unknown, opts: { readonly eager?: boolean } = {}): ResponseChecker {
  const doc = document as { paths?: Record<string, Record<string, Json>>; components?: { schemas?: Record<string, Json> } };
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: pointAtComponents(doc.components?.schemas ?? {}) });
  const schemas = new Map<string, Json>();
  const validators = new Map<string, ValidateFunction>();
  const validator = (where: string): ValidateFunction | undefined => {
    const schema = schemas.get(where);
    if (schema === undefined) return undefined;
    let v = validators.get(where);
    if (v === undefined) {
      try {
        v = ajv.compile(pointAtComponents(schema) as Json);
      } catch (e) {
        throw new Error(`the schema of ${where} does not compile: ${(e as Error).message}`, { cause: e });
      }
      validators.set(where, v);
    }
    return v;
  };
  const errorValidator = ajv.compile({ $ref: `${COMPONENTS_ID}#/$defs/Error` });

  const operations: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      if (!METHODS.has(method)) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const responses = (op['responses'] ?? {}) as Record<string, Json>;
      for (const [status, r] of Object.entries(responses)) {
        for (const [contentType, media] of Object.entries((r['content'] ?? {}) as Record<string, Json>)) {
          const schema = media['schema'] as Json | undefined;
          if (schema !== undefined && isJson(contentType)) schemas.set(`${key} ${status} ${contentType}`, schema);
        }
      }
      const segments = path.split('/');
      operations.push({
        key,
        method: method.toUpperCase(),
        matcher: new RegExp(`^${segments.map((s) => (/^\{\w+\}$/.test(s) ? '[^/]+' : escape(s))).join('/')}$`),
        literals: segments.filter((s) => !s.startsWith('{')).length,
        responses,
      });
    }
  }
  if (opts.eager === true) for (const where of schemas.keys()) validator(where);
  // A literal path beats a template (`/v1/events/stream` before `/v1/events/{id}`).
  operations.sort((a, b) => b.literals - a.literals);

  // HEAD is answered by the GET route (Hono does so for every GET), without a body.
  const find = (method: string, path: string) => {
    const m = method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase();
    return operations.find((o) => o.method === m && o.matcher.test(path));
  };
  const responseOf = (op: Operation, status: number) => {
    const key = op.responses[String(status)] !== undefined ? String(status) : op.responses['default'] !== undefined ? 'default' : null;
    return key === null ? null : { key, response: op.responses[key] as Json };
  };
  const mediaOf = (response: Json, contentType: string | null) => {
    const content = (response['content'] ?? {}) as Record<string, Json>;
    const base = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const match = Object.keys(content).find((k) => k.toLowerCase() === base);
    return { content, match };
  };

  return {
    operations: operations.map((o) => o.key).sort(),
    expectsJson(method, path, status, contentType) {
      const op = find(method, path);
      if (op === undefined) return true;
      const r = responseOf(op, status);
      if (r === null) return false;
      const { match } = mediaOf(r.response, contentType);
      return match !== undefined && isJson(match);
    },
    check(answer) {
      // A CORS preflight is the middleware's, not a route's.
      if (answer.method.toUpperCase() === 'OPTIONS') return { operation: null, response: null, errors: [] };
      const op = find(answer.method, answer.path);
      if (op === undefined) {
        if (answer.status < 400) return { operation: null, response: null, errors: [`${answer.method} ${answer.path} answered ${answer.status} but the document has no such route`] };
        const ok = errorValidator(answer.body);
        return { operation: null, response: null, errors: ok ? [] : [`${answer.method} ${answer.path} ${answer.status}: not the error body: ${ajv.errorsText(errorValidator.errors)}`] };
      }
      const r = responseOf(op, answer.status);
      if (r === null) return { operation: op.key, response: null, errors: [`${op.key}: status ${answer.status} is not documented`] };
      const { content, match } = mediaOf(r.response, answer.contentType);
      if (match === undefined) {
        return {
          operation: op.key,
          response: r.key,
          errors: [`${op.key} ${answer.status}: content type ${answer.contentType ?? '(none)'} is not documented (${Object.keys(content).join(', ') || 'no content'})`],
        };
      }
      const validate = answer.method.toUpperCase() === 'HEAD' ? undefined : validator(`${op.key} ${r.key} ${match}`);
      if (validate === undefined || validate(answer.body)) return { operation: op.key, response: r.key, errors: [] };
      const errors = (validate.errors ?? []).map((e) => `${op.key} ${answer.status}: body${e.instancePath} ${e.message ?? 'is invalid'}${e.params === undefined ? '' : ` ${JSON.stringify(e.params)}`}`);
      return { operation: op.key, response: r.key, errors };
    },
  };
}

/**
 * Check a fetch Response: reads a clone of its body when the documented answer is JSON, and
 * only its headers otherwise (an event stream never ends).
 */
export async function checkResponse(checker: ResponseChecker, method: string, url: string, res: Response): Promise<Checked> {
  const path = new URL(url, 'http://localhost').pathname;
  const contentType = res.headers.get('Content-Type');
  if (method.toUpperCase() === 'HEAD' || !checker.expectsJson(method, path, res.status, contentType) || !isJson(contentType ?? '')) {
    return checker.check({ method, path, status: res.status, contentType });
  }
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { operation: null, response: null, errors: [`${method} ${path} ${res.status}: the body is not JSON: ${text.slice(0, 200)}`] };
  }
  return checker.check({ method, path, status: res.status, contentType, body });
}

function isJson(contentType: string): boolean {
  const base = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return base === 'application/json' || base.endsWith('+json');
}

/** `#/components/schemas/X` as a reference into the components schema ajv holds. */
function pointAtComponents<T>(v: T): T {
  if (Array.isArray(v)) return v.map(pointAtComponents) as T;
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')
      ? `${COMPONENTS_ID}#/$defs/${x.slice('#/components/schemas/'.length)}`
      : pointAtComponents(x);
  }
  return out as T;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The formats zod writes (ajv knows none without ajv-formats); an unknown one fails compilation. */
function addFormats(ajv: Ajv2020): void {
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat('uri', { type: 'string', validate: (s: string) => URL.canParse(s) });
  ajv.addFormat('duration', /^P/);
  ajv.addFormat('base64', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  ajv.addFormat('base64url', /^[A-Za-z0-9_-]*$/);
}
