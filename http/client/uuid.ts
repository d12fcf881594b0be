// Event ids the client makes when a producer gives none: UUIDv7 (RFC 9562), time-ordered so
// ids sort roughly by creation, and random enough to never collide. Uses only Web Crypto,
// so it runs unchanged in Node, Deno and browsers.

/**
 * A new UUIDv7.
 *
 * @example
 * uuidv7(); // '0190b6d2-8c3a-7f1e-9a4b-2c5d6e7f8a9b'
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  let ms = BigInt(nowMs);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(ms & 0xffn);
    ms >>= 8n;
  }
  b[6] = ((b[6] as number) & 0x0f) | 0x70; // version 7
  b[8] = ((b[8] as number) & 0x3f) | 0x80; // variant 10
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
