// 405 for a method a path does not serve. Rule: a request whose path matches a route of the
// app under another method is answered 405 with `Allow` listing the methods that path serves
// (HEAD wherever GET is, OPTIONS never: keyflow answers no preflight outside its routes; a
// path a route names literally is that route's alone); a path no route matches stays a 404.
import { MethodNotAllowedError } from './errors.ts';

type Route = { readonly method: string; readonly path: string };

/**
 * The methods the routes serve at `path`, or [] when no route matches it.
 *
 * @example
 * allowedMethods([{ method: 'GET', path: '/v1/events/:id' }], '/v1/events/e-1'); // ['GET', 'HEAD']
 */
export function allowedMethods(routes: readonly Route[], path: string): string[] {
  const methods = new Set<string>();
  // A path some route names literally (/v1/events/stream) is that resource, not a value of a
  // parameter of another (/v1/events/:id).
  const literal = routes.some((r) => r.method !== 'ALL' && r.path === path);
  for (const r of routes) {
    if (r.method === 'ALL' || (literal ? r.path !== path : !matcher(r.path).test(path))) continue;
    methods.add(r.method);
    if (r.method === 'GET') methods.add('HEAD');
  }
  return [...methods].sort();
}

/**
 * The 405 owed to `method` at `path`, or undefined when the path is unknown (a 404) or serves
 * the method (its handler answered not-found itself).
 *
 * @example
 * methodNotAllowed(app.routes, 'TRACE', '/healthz'); // MethodNotAllowedError, Allow: GET, HEAD
 */
export function methodNotAllowed(routes: readonly Route[], method: string, path: string): MethodNotAllowedError | undefined {
  const allowed = allowedMethods(routes, path);
  if (allowed.length === 0 || allowed.includes(method.toUpperCase())) return undefined;
  return new MethodNotAllowedError(`${path.slice(0, 256)} does not serve ${method.slice(0, 16)}; it serves ${allowed.join(', ')}`, allowed);
}

const matchers = new Map<string, RegExp>();

/** Hono's path syntax (`:param`, `:param{regex}`, `*`) as one anchored RegExp, cached per route. */
function matcher(routePath: string): RegExp {
  let re = matchers.get(routePath);
  if (re === undefined) {
    const source = routePath
      .split('/')
      .map((seg) => {
        if (seg === '*') return '.*';
        const param = /^:\w+(?:\{(.+)\})?(\?)?$/.exec(seg);
        if (param !== null) return param[1] ?? '[^/]+';
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    re = new RegExp(`^${source}$`);
    matchers.set(routePath, re);
  }
  return re;
}
