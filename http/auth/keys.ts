// The API-key table. Rule: a presented key is compared with every configured key in
// constant time — both sides are SHA-256 digests, so every comparison is 32 bytes against
// 32 bytes whatever the lengths, and no comparison stops early — and only the key's name
// ever leaves this module.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ApiKey, Scope } from '../ports.ts';

/** A configured key as the guard holds it: its name, scopes and secret's digest. */
type HeldKey = { readonly name: string; readonly scopes: readonly Scope[]; readonly digest: Buffer };

export type KeyTable = {
  readonly size: number;
  /** The key whose secret is `presented`, or undefined. Takes the same time either way. */
  identify(presented: string): { readonly name: string; readonly scopes: readonly Scope[] } | undefined;
};

/**
 * The table of configured keys, holding only their secrets' digests.
 *
 * @example
 * keyTable([{ name: 'ci', secret: 's3cret', scopes: ['ingest'] }]).identify('s3cret')?.name; // 'ci'
 */
export function keyTable(keys: readonly ApiKey[]): KeyTable {
  const held: HeldKey[] = keys.map((k) => ({ name: k.name, scopes: k.scopes, digest: digest(k.secret) }));
  return {
    size: held.length,
    identify(presented) {
      const d = digest(presented);
      let found: HeldKey | undefined;
      // No early exit: every configured key is compared, a match does not end the loop.
      for (const k of held) {
        const same = timingSafeEqual(k.digest, d);
        if (same && found === undefined) found = k;
      }
      return found === undefined ? undefined : { name: found.name, scopes: found.scopes };
    },
  };
}

/**
 * Compare a presented internal token with the expected one in constant time.
 *
 * @example
 * tokenMatches('abc', 'abc'); // true
 */
export function tokenMatches(expected: string, presented: string): boolean {
  return timingSafeEqual(digest(expected), digest(presented));
}

/**
 * The internal token every process of one deployment derives from the same API keys, when
 * KEYFLOW_INTERNAL_TOKEN is not set: an HMAC of a fixed label keyed by the secrets, so it
 * reveals none of them. Undefined without keys (the internal API is then open, as /v1 is).
 *
 * @example
 * deriveInternalToken([{ name: 'ci', secret: 'q7Vb1xT0p9LmZr3KwS5d', scopes: ['read'] }]); // 64 hex characters
 */
export function deriveInternalToken(keys: readonly ApiKey[]): string | undefined {
  if (keys.length === 0) return undefined;
  const secrets = keys.map((k) => k.secret).sort();
  return createHmac('sha256', secrets.join('\n')).update('keyflow internal token v1').digest('hex');
}

/** The header processes send the internal token in. */
export const INTERNAL_TOKEN_HEADER = 'X-Keyflow-Internal-Token';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
