// Which Kafka messages keyflow trusts (DESIGN.md, Guarantees: only keyflow commands). Rule: a
// message is keyflow's own only when it carries, in SIGNATURE_HEADER, an HMAC-SHA256 of its
// key, its value and what it claims to be (an edge-validated event, or the command it names),
// made with the deployment's secret (KEYFLOW_EDGE_TOKEN, or the previous one during a
// rotation). The secret itself never travels, and a signature copied onto another key, value
// or kind of message does not verify. A command without a valid signature never runs; an
// event without one is validated in full like any other producer's. Without a secret nothing
// is trusted.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IHeaders } from 'kafkajs';

/** The header that carries a message's signature (base64url of the HMAC-SHA256). */
export const SIGNATURE_HEADER = 'keyflow-signature';

/** What a signature vouches for: an event the edge validated, or one named command. */
export type SignedKind = { readonly event: true } | { readonly command: string };

/** The kinds, as signed: a signature made for one never verifies as another. */
const EVENT_MARK = 'keyflow/1 event';
const commandMark = (name: string): string => `keyflow/1 command ${name}`;
/** SHA-256 output, base64url without padding. */
export const SIGNATURE_CHARS = 43;

type Bytes = Buffer | string | null;

/** Signs messages with the deployment's secret and verifies them with it or the previous one. */
export class MessageTrust {
  readonly #secrets: readonly Buffer[];

  /**
   * @param secret KEYFLOW_EDGE_TOKEN: signs, and verifies.
   * @param previous KEYFLOW_EDGE_TOKEN_PREVIOUS: verifies only (messages signed before a rotation).
   */
  constructor(secret: string, previous?: string) {
    this.#secrets = [Buffer.from(secret, 'utf8'), ...(previous === undefined ? [] : [Buffer.from(previous, 'utf8')])];
  }

  /**
   * The signature of a message.
   *
   * @example
   * trust.sign('u-42', '{"erasureId":"e1",…}', { command: 'erase-user' }); // 'Xq3…' (43 characters)
   */
  sign(key: Bytes, value: Bytes, kind: SignedKind): string {
    return mac(this.#secrets[0]!, key, value, kind).toString('base64url');
  }

  /**
   * True when the message's SIGNATURE_HEADER is exactly one signature of (key, value, kind)
   * under the secret or the previous one; compared in constant time.
   *
   * @example
   * trust.verify(message.headers, message.key, message.value, { event: true });
   */
  verify(headers: IHeaders | undefined, key: Bytes, value: Bytes, kind: SignedKind): boolean {
    const h = headers?.[SIGNATURE_HEADER];
    // kafkajs hands consumed headers over as Buffers; a string only comes from a hand-built message.
    const got = typeof h === 'string' ? Buffer.from(h, 'utf8') : h;
    if (!Buffer.isBuffer(got) || got.length !== SIGNATURE_CHARS) return false;
    let ok = false;
    for (const secret of this.#secrets) {
      const want = Buffer.from(mac(secret, key, value, kind).toString('base64url'), 'utf8');
      // Both are checked, so the time taken does not say which secret matched.
      ok = timingSafeEqual(got, want) || ok;
    }
    return ok;
  }
}

/**
 * The deployment's trust, once per process or worker thread; undefined when no secret is
 * configured (then nothing is signed and nothing is trusted).
 *
 * @example
 * const trust = messageTrust(config); // once
 * trust?.verify(message.headers, message.key, message.value, { event: true }); // per message
 */
export function messageTrust(config: { readonly edgeToken?: string | undefined; readonly edgeTokenPrevious?: string | undefined }): MessageTrust | undefined {
  return config.edgeToken === undefined ? undefined : new MessageTrust(config.edgeToken, config.edgeTokenPrevious);
}

/** HMAC-SHA256 over the kind, the key and the value, each length-prefixed (a null key differs from ''). */
function mac(secret: Buffer, key: Bytes, value: Bytes, kind: SignedKind): Buffer {
  const h = createHmac('sha256', secret);
  // update() copies its input, so one length buffer serves every part.
  const len = Buffer.allocUnsafe(4);
  for (const part of ['command' in kind ? commandMark(kind.command) : EVENT_MARK, key, value]) {
    len.writeUInt32BE(part === null ? 0xffffffff : typeof part === 'string' ? Buffer.byteLength(part, 'utf8') : part.length);
    h.update(len);
    if (part !== null) h.update(part);
  }
  return h.digest();
}
