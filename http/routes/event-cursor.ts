// The opaque cursor of GET /v1/events. Rule: the edge only ever resumes a list from a
// position it signed itself for the very same filters — a cursor is the position (occurredAt,
// id) plus an HMAC-SHA256 over it and the query's normalized filters — so an edited,
// truncated or forged cursor, or one handed out for another query, is refused (400), never
// silently read as some other place in some other list.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A position in the list: the last event of a page. */
export type CursorPosition = { readonly occurredAt: Date; readonly id: string };

const VERSION = 1;

/**
 * Sign and read cursors with one secret. `scope` is the canonical form of the query's
 * filters; a cursor only opens under the scope it was made for.
 *
 * @example
 * const cursors = cursorCodec(secret);
 * const c = cursors.encode({ occurredAt, id }, 'userId=u-1');
 * cursors.decode(c, 'userId=u-1'); // { occurredAt, id }
 * cursors.decode(c, 'userId=u-2'); // undefined
 */
export function cursorCodec(secret: string | Uint8Array) {
  const mac = (payload: string, scope: string) => createHmac('sha256', secret).update(`${payload}\n${scope}`).digest();
  return {
    encode(position: CursorPosition, scope: string): string {
      const payload = Buffer.from(JSON.stringify([VERSION, position.occurredAt.getTime(), position.id])).toString('base64url');
      return `${payload}.${mac(payload, scope).toString('base64url')}`;
    },
    /** The position, or undefined when this codec did not make `cursor` for `scope`. */
    decode(cursor: string, scope: string): CursorPosition | undefined {
      const [payload, signature, ...rest] = cursor.split('.');
      if (payload === undefined || signature === undefined || rest.length > 0) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(payload, scope);
      // base64url decoding skips stray characters; the re-encoding must be the very string sent.
      if (given.toString('base64url') !== signature || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
      const [version, ms, id] = parsed as unknown[];
      if (version !== VERSION || typeof ms !== 'number' || !Number.isSafeInteger(ms) || typeof id !== 'string') return undefined;
      return { occurredAt: new Date(ms), id };
    },
  };
}
