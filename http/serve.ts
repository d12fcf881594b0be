// Puts an app on a socket. Rule: serveApp resolves only once the port is bound (and rejects
// if it cannot be), and close() is idempotent: every call returns the same promise, which
// settles when the server has stopped and its connections are gone.
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Http2Bindings, HttpBindings } from '@hono/node-server';

/** A listening edge. */
export type ServedApp = {
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** Stop accepting, end idle keep-alive connections, wait for in-flight requests. */
  close(): Promise<void>;
};

export type ServeOptions = { readonly port: number; readonly host: string };

/** Anything with a fetch handler, as a Hono app of any environment is. */
export type Fetchable = { fetch(request: Request, env: HttpBindings | Http2Bindings): Response | Promise<Response> };

/**
 * Listen on `host:port` with @hono/node-server.
 *
 * @example
 * const served = await serveApp(createApp(deps), { port: 0, host: '127.0.0.1' });
 * await served.close();
 */
export async function serveApp(app: Fetchable, options: ServeOptions): Promise<ServedApp> {
  // A plain HTTP/1.1 server: the default createServer of node:http.
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  // Node's 5-minute limit on a whole request would cut a long POST /v1/events/stream; the
  // routes bound their bodies themselves (a deadline per body, an idle limit per stream read).
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive connections with no request in flight would hold close() open.
      server.closeIdleConnections();
    });
    return closing;
  };
  return { port, close };
}
