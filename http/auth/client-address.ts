// Who a request comes from, for limits per client. Rule: the address is the TCP peer's, from
// the socket (@hono/node-server's getConnInfo) — never a header a client can write, such as
// X-Forwarded-For, unless the peer is a proxy the operator named (KEYFLOW_TRUSTED_PROXIES);
// then the rightmost X-Forwarded-For entry that is not one of those proxies. IPv6 clients are
// counted per /64, the block one host usually holds.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { isIPv6 } from 'node:net';
import type { EdgeEnv } from '../env.ts';

/** The address of a request that came without a socket (app.request in tests). */
export const NO_SOCKET = 'local';

/**
 * Middleware that sets `clientAddress` for the handlers after it.
 *
 * @example
 * app.use(clientAddress(['10.0.0.5'])); // c.get('clientAddress') === '203.0.113.7'
 */
export function clientAddress(trustedProxies: readonly string[] = []): MiddlewareHandler<EdgeEnv> {
  const trusted = new Set(trustedProxies.map(normalize));
  return async function setClientAddress(c, next) {
    c.set('clientAddress', addressOf(c, trusted));
    await next();
  };
}

function addressOf(c: Context<EdgeEnv>, trusted: ReadonlySet<string>): string {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    return NO_SOCKET;
  }
  if (peer === undefined) return NO_SOCKET;
  let address = normalize(peer);
  if (trusted.has(address)) {
    // Proxies append the address they saw: walk from the right past our own proxies.
    const hops = (c.req.header('X-Forwarded-For') ?? '').split(',').map((s) => normalize(s.trim())).filter((s) => s !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      address = hops[i]!;
      if (!trusted.has(address)) break;
    }
  }
  return addressBucket(address);
}

/** ::ffff:1.2.3.4 is 1.2.3.4. */
function normalize(a: string): string {
  return a.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/**
 * What limits count an address as: an IPv6 address as its /64, anything else as itself.
 *
 * @example
 * addressBucket('2001:db8:0:1::7'); // '2001:db8:0:1::/64'
 */
export function addressBucket(a: string): string {
  if (!isIPv6(a)) return a.slice(0, 64);
  const [head = '', tail] = a.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
