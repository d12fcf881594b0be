// The door of every request: API key, scope, rate limit, internal token. Without keys, the
// keyless rules of ./local-only.ts (loopback Host, JSON ingest) come first. Rule: a request
// reaches a /v1 handler only with a configured key that has the route's scope (401 without
// a valid key, 403 without the scope) and a token from its key's bucket (429 with
// Retry-After otherwise); /internal/* only with the deployment's internal token; and every
// /v1 and /internal answer is counted under its key's name, never its secret. A client
// address that failed authentication too often is a 429 before its key is looked at.
import type { Context, MiddlewareHandler } from 'hono';
import type { EdgeEnv } from '../env.ts';
import { ForbiddenError, HttpError, RateLimitedError, UnauthorizedError } from '../errors.ts';
import type { ApiKey, RateLimitDecision, RateLimitPort } from '../ports.ts';
import { requiredAccess } from './access.ts';
import type { AuthFailureLimiter } from './failure-limit.ts';
import { INTERNAL_TOKEN_HEADER, keyTable, tokenMatches } from './keys.ts';
import { checkKeyless } from './local-only.ts';

export type GuardOptions = {
  readonly apiKeys: readonly ApiKey[];
  /** KEYFLOW_AUTH=none: keyless and served to any Host on purpose. */
  readonly openToNetwork?: boolean | undefined;
  /** Required on /internal/* when set. */
  readonly internalToken?: string | undefined;
  readonly rateLimit?: RateLimitPort | undefined;
  /** Failed authentications per client address (KEYFLOW_AUTH_FAILURES_PER_MIN); absent = unlimited. */
  readonly authFailures?: AuthFailureLimiter | undefined;
  onRequest?(info: { readonly key: string; readonly status: number }): void;
};

/** The key name requests are counted under when no API keys are configured. */
export const ANONYMOUS = 'anonymous';
/** The key name of a request that presented no valid key. */
export const NO_KEY = 'none';

/**
 * The guard middleware, for every path (it decides itself which paths are public).
 *
 * @example
 * app.use(guard({ apiKeys: [{ name: 'ci', secret: 's', scopes: ['read'] }] }));
 */
export function guard(o: GuardOptions): MiddlewareHandler<EdgeEnv> {
  const keys = keyTable(o.apiKeys);
  return async function guardRequest(c, next) {
    // Without keys: loopback Host names only, and JSON/NDJSON ingest only (./local-only.ts).
    if (keys.size === 0) checkKeyless({ method: c.req.method, path: c.req.path, url: c.req.url, contentType: c.req.header('Content-Type'), openToNetwork: o.openToNetwork === true });
    const access = requiredAccess(c.req.method, c.req.path);
    if (access.kind === 'public') return next();
    if (access.kind === 'writeKey') {
      // The route authenticates and rate-limits by write key; it names the key it found.
      await next();
      o.onRequest?.({ key: c.get('apiKeyName') ?? (keys.size === 0 ? ANONYMOUS : NO_KEY), status: c.res.status });
      return;
    }
    let key = NO_KEY;
    const address = c.get('clientAddress') ?? 'unknown';
    const checksKey = access.kind === 'internal' ? o.internalToken !== undefined : keys.size > 0;
    try {
      const wait = checksKey ? (o.authFailures?.retryAfterSeconds(address) ?? 0) : 0;
      if (wait > 0) {
        throw new RateLimitedError(`too many failed authentications from this address; retry in ${wait} s`, wait, { details: { retryAfterSeconds: wait } });
      }
      if (access.kind === 'internal') {
        key = 'internal';
        if (o.internalToken !== undefined) {
          const presented = c.req.header(INTERNAL_TOKEN_HEADER);
          if (presented === undefined || !tokenMatches(o.internalToken, presented)) {
            throw new UnauthorizedError(`the internal API needs the deployment's ${INTERNAL_TOKEN_HEADER}`);
          }
        }
      } else if (keys.size === 0) {
        key = ANONYMOUS;
      } else {
        const presented = presentedKey(c.req.header('Authorization'), c.req.header('X-API-Key'));
        if (presented === undefined) {
          c.header('WWW-Authenticate', 'Bearer');
          throw new UnauthorizedError('an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>');
        }
        const found = keys.identify(presented);
        if (found === undefined) {
          c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
          throw new UnauthorizedError('the API key is not valid');
        }
        key = found.name;
        c.set('apiKeyName', key);
        if (!found.scopes.includes(access.scope)) {
          throw new ForbiddenError(`the API key "${key}" lacks the scope "${access.scope}" that ${c.req.method} ${c.req.path} needs`, {
            details: { key, required: access.scope, scopes: found.scopes },
          });
        }
      }
      if (access.kind === 'scope' && o.rateLimit !== undefined) {
        const d = await o.rateLimit.take(key);
        if (d !== undefined) {
          setRateLimitHeaders(c, d);
          if (!d.allowed) {
            const retry = Math.max(1, Math.ceil(d.retryAfterSeconds));
            throw new RateLimitedError(`the API key "${key}" is over its rate limit of ${d.perSec} requests per second (burst ${d.burst}); retry in ${retry} s`, retry, {
              details: { key, perSec: d.perSec, burst: d.burst, retryAfterSeconds: retry },
            });
          }
        }
      }
    } catch (e) {
      if (e instanceof UnauthorizedError) o.authFailures?.fail(address);
      o.onRequest?.({ key, status: e instanceof HttpError ? e.status : 500 });
      throw e;
    }
    await next();
    o.onRequest?.({ key, status: c.res.status });
  };
}

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers): the policy is a bucket of
 * `burst` requests that refills in `w` seconds; `r` requests are left, full again in `t`.
 */
function setRateLimitHeaders(c: Context, d: RateLimitDecision): void {
  const window = Math.max(1, Math.ceil(d.burst / d.perSec));
  c.header('RateLimit-Policy', `"per-key";q=${d.burst};w=${window}`);
  c.header('RateLimit', `"per-key";r=${Math.max(0, Math.floor(d.remaining))};t=${Math.max(0, Math.ceil(d.resetSeconds))}`);
}

function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | undefined {
  const bearer = authorization === undefined ? undefined : /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const k = xApiKey?.trim();
  return k === undefined || k === '' ? undefined : k;
}
