// Which Kafka messages a worker may trust to be valid already. Rule: only a message carrying
// the deployment's edge token in EDGE_TOKEN_HEADER is trusted — the edge sets it on every
// event it validated and encoded — and a missing token (none configured) trusts nothing, so
// an event from any other producer is always validated in full.
import { timingSafeEqual } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';

/** The header in which the edge proves that it validated and encoded an event. */
export const EDGE_TOKEN_HEADER = 'keyflow-edge-token';

/**
 * The edge token as bytes, computed once per worker; undefined when none is configured.
 *
 * @example
 * const token = edgeTokenBytes(config); // once
 * decodeEvent(message.value, { trusted: fromEdge(message.headers, token) }); // per message
 */
export function edgeTokenBytes(config: { readonly edgeToken?: string | undefined }): Buffer | undefined {
  return config.edgeToken === undefined ? undefined : Buffer.from(config.edgeToken, 'utf8');
}

/**
 * Whether a message carries the edge token: one header value of exactly the token's bytes,
 * compared in constant time. A repeated header, another length or no token is false.
 *
 * @example
 * fromEdge({ 'keyflow-edge-token': Buffer.from(token) }, Buffer.from(token)); // true
 */
export function fromEdge(headers: KafkaMessage['headers'], token: Buffer | undefined): boolean {
  if (token === undefined) return false;
  const h = headers?.[EDGE_TOKEN_HEADER];
  // kafkajs hands consumed headers over as Buffers; a string only comes from a hand-built message.
  const got = typeof h === 'string' ? Buffer.from(h, 'utf8') : h;
  if (!Buffer.isBuffer(got) || got.length !== token.length) return false;
  return timingSafeEqual(got, token);
}
