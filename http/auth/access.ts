// Which requests need which scope: the one table of the edge. Rule: access is decided by
// method and path prefix (whole segments), first matching rule wins, and anything under
// /v1 that no rule names needs admin — so a route added later gets a scope by rule, never
// by being forgotten, and a new write route is closed until someone opens it here.
import type { Scope } from '../ports.ts';
import { isSegmentPath } from '../segment/paths.ts';

/** What a request needs: nothing, the internal token, or an API key with a scope. */
export type Access =
  | { readonly kind: 'public' }
  | { readonly kind: 'internal' }
  | { readonly kind: 'scope'; readonly scope: Scope }
  // Segment-compatible ingestion: the route checks the write key itself (it may be in the body).
  | { readonly kind: 'writeKey' };

type Rule = { readonly methods: readonly string[] | '*'; readonly prefix: string; readonly scope: Scope };

/**
 * The rules, in order (README, *API keys and scopes*). `prefix` matches whole segments:
 * `/v1/events` covers `/v1/events` and `/v1/events/stream`, not `/v1/eventsx`.
 */
export const ACCESS_RULES: readonly Rule[] = [
  // Erasure, dead letters, consumer lag and every other /v1/admin route.
  { methods: '*', prefix: '/v1/admin', scope: 'admin' },
  { methods: '*', prefix: '/v1/erasures', scope: 'admin' },
  { methods: '*', prefix: '/v1/dead-letters', scope: 'admin' },
  { methods: ['DELETE'], prefix: '/v1/users', scope: 'admin' },
  // POST /v1/events and POST /v1/events/stream.
  { methods: ['POST'], prefix: '/v1/events', scope: 'ingest' },
  // Every other read: events, reports, analytics, users, actors, stream.
  { methods: ['GET', 'HEAD'], prefix: '/v1', scope: 'read' },
  // Any other method under /v1.
  { methods: '*', prefix: '/v1', scope: 'admin' },
];

/**
 * The access a request needs. `path` is the decoded path Hono routes by (c.req.path).
 *
 * @example
 * requiredAccess('DELETE', '/v1/users/u-1'); // { kind: 'scope', scope: 'admin' }
 * requiredAccess('GET', '/healthz'); // { kind: 'public' }
 */
export function requiredAccess(method: string, path: string): Access {
  if (under(path, '/internal')) return { kind: 'internal' };
  if (isSegmentPath(path)) return { kind: 'writeKey' };
  const m = method.toUpperCase();
  for (const r of ACCESS_RULES) {
    if ((r.methods === '*' || r.methods.includes(m)) && under(path, r.prefix)) return { kind: 'scope', scope: r.scope };
  }
  return { kind: 'public' };
}

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}
