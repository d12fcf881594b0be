// Is something answering on a TCP port? The cheapest question that tells "running" from
// "not running" for all three services, used by `up` (leave a running service alone, whoever
// started it), by `status`, and by the test preflight.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Endpoint = Readonly<{ host: string; port: number }>;

/** The outcome of a probe: reachable, or why not in a few words ("connection refused"). */
export type Reachability = { reachable: true } | { reachable: false; reason: string };

/**
 * Try one TCP connection.
 *
 * @example
 * const r = await probeTcp({ host: '127.0.0.1', port: 55432 });
 * if (!r.reachable) console.log(r.reason); // "connection refused"
 */
export function probeTcp(endpoint: Endpoint, timeoutMs = 1000): Promise<Reachability> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const done = (r: Reachability): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ reachable: false, reason: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ reachable: true }));
    socket.once('error', (error: NodeJS.ErrnoException) => done({ reachable: false, reason: describeSocketError(error) }));
  });
}

/** Probe until reachable or until `timeoutMs` has passed; the last failure explains why. */
export async function waitReachable(endpoint: Endpoint, timeoutMs: number, intervalMs = 250): Promise<Reachability> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    const r = await probeTcp(endpoint, Math.max(100, Math.min(1000, left)));
    if (r.reachable || Date.now() + intervalMs >= deadline) return r;
    await sleep(intervalMs);
  }
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return error.code ?? error.message;
  }
}
