// GET / and GET /console/<file>: the web console's static files (http/console/), served by
// the edge itself, so the page needs no CDN and no network beyond keyflow.
// Rule: only the files of http/console/ that a browser loads (.html, .js, .css) are served,
// each with its own content type, a strong ETag and `Cache-Control: no-cache` (revalidate
// every time, so a new deployment shows at once); the routes take exactly `/` and
// `/console/*`, so they can never shadow the API. The page holds no data and needs no API
// key; everything it shows comes from /v1 calls that carry the key the operator typed.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import { NotFoundError } from '../errors.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';
import { errorSchema } from '../openapi/schemas.ts';

/** The folder with the console's files; beside this one in the sources and in dist/. */
export const consoleDir: string = join(import.meta.dirname, '..', 'console');

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// The page runs only its own script and style and talks only to its own origin.
const pagePolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** How the console routes describe themselves in /openapi.json. */
export const consoleDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    summary: 'The web console (the page holds no data and needs no API key; its calls to /v1 do)',
    auth: 'none',
    responses: {
      200: { description: 'The page', schema: z.string(), contentType: 'text/html' },
      304: { description: 'Not modified: If-None-Match named its ETag (no body)', contentType: 'text/html' },
    },
  },
  {
    method: 'get',
    path: '/console/:file',
    summary: 'A script or style sheet of the web console',
    auth: 'none',
    params: z.object({ file: z.string().min(1) }),
    responses: {
      200: { description: 'The file', schema: z.string(), contentType: 'text/javascript', alsoAs: ['text/css'] },
      304: { description: 'Not modified: If-None-Match named its ETag (no body)', contentType: 'text/javascript', alsoAs: ['text/css'] },
      404: { description: 'No such file (not_found)', schema: errorSchema },
    },
  },
];

type Asset = { readonly body: Uint8Array<ArrayBuffer>; readonly contentType: string; readonly etag: string };

/**
 * The console routes, reading the files of `dir` once, at the first request.
 *
 * @example
 * app.route('/', consoleRoutes());
 * await app.request('/'); // 200 text/html
 */
export function consoleRoutes(dir: string = consoleDir): Hono<EdgeEnv> {
  let assets: Promise<ReadonlyMap<string, Asset>> | undefined;
  const load = (): Promise<ReadonlyMap<string, Asset>> => {
    assets ??= loadAssets(dir);
    // A failed read (a broken install) is retried at the next request rather than kept.
    assets.catch(() => (assets = undefined));
    return assets;
  };
  const serve = async (c: Context<EdgeEnv>, name: string): Promise<Response> => {
    const asset = (await load()).get(name);
    if (asset === undefined) throw new NotFoundError(`no route ${c.req.method} ${c.req.path}`);
    const headers: Record<string, string> = {
      'Content-Type': asset.contentType,
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (name.endsWith('.html')) {
      headers['Content-Security-Policy'] = pagePolicy;
      headers['X-Frame-Options'] = 'DENY';
    }
    if (matches(c.req.header('If-None-Match'), asset.etag)) return c.body(null, 304, headers);
    headers['Content-Length'] = String(asset.body.byteLength);
    return c.body(asset.body, 200, headers);
  };

  const app = new Hono<EdgeEnv>();
  // Hono answers HEAD with the GET handler's headers and no body.
  app.get('/', (c) => serve(c, 'index.html'));
  app.get('/console/:file', (c) => serve(c, c.req.param('file')));
  return app;
}

async function loadAssets(dir: string): Promise<ReadonlyMap<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const contentType = contentTypes[extname(entry.name)];
    if (!entry.isFile() || contentType === undefined) continue;
    const body = new Uint8Array(await readFile(join(dir, entry.name)));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(entry.name, { body, contentType, etag });
  }
  return assets;
}

/** Whether an If-None-Match header names `etag` (or `*`); weak comparison, as RFC 9110 asks. */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}
