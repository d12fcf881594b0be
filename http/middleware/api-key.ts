// API-key authentication for /v1/*. Rule: when keys are configured, a request passes only
// with one of them in `Authorization: Bearer <key>` or `X-API-Key: <key>`, and the comparison
// takes the same time whichever key (or how much of one) matched.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../errors.ts';

/**
 * A middleware that requires one of `keys`; with no keys it lets everything through.
 *
 * @example
 * app.use('/v1/*', apiKeyAuth(['s3cret']));
 */
export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler {
  // Hashing first gives equal-length buffers, so timingSafeEqual never leaks a key's length.
  const digests = keys.map(digest);
  return async function apiKey(c, next) {
    if (digests.length === 0) return next();
    const presented = presentedKey(c.req.header('Authorization'), c.req.header('X-API-Key'));
    if (presented === undefined) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new UnauthorizedError('an API key is required: send Authorization: Bearer <key> or X-API-Key: <key>');
    }
    const d = digest(presented);
    let ok = false;
    // No early exit: every configured key is compared.
    for (const k of digests) ok = timingSafeEqual(k, d) || ok;
    if (!ok) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new UnauthorizedError('the API key is not valid');
    }
    return next();
  };
}

function presentedKey(authorization: string | undefined, xApiKey: string | undefined): string | undefined {
  const bearer = authorization === undefined ? undefined : /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization)?.[1];
  if (bearer !== undefined) return bearer;
  const k = xApiKey?.trim();
  return k === undefined || k === '' ? undefined : k;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
