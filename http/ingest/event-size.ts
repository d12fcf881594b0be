// How large one event may be. Rule (DESIGN.md, "Bytes, not counts"): an event that cannot
// fit one Kafka message of the events topic is refused at the edge, naming the limit, before
// anything of its request is produced; keyflow's own batching never refuses one that fits.
import type { EncodedEvent, EventSizeLimit } from '../ports.ts';

/** The bytes an event takes in Kafka for the limit's purpose: its key and encoded value. */
export function eventBytes(e: EncodedEvent): number {
  return Buffer.byteLength(e.key, 'utf8') + Buffer.byteLength(e.value, 'utf8');
}

/**
 * Why `e` is too large for `limit`, or undefined when it fits.
 *
 * @example
 * tooLargeMessage(event, { maxEventBytes: 1_047_400, maxMessageBytes: 1_048_588, source: 'max.message.bytes of topic keyflow.events' });
 * // 'the event takes 2000000 bytes (key and encoded value); at most 1047400 fit one Kafka message (max.message.bytes of topic keyflow.events: 1048588 bytes)'
 */
export function tooLargeMessage(e: EncodedEvent, limit: EventSizeLimit): string | undefined {
  const bytes = eventBytes(e);
  if (bytes <= limit.maxEventBytes) return undefined;
  return `the event takes ${bytes} bytes (key and encoded value); at most ${limit.maxEventBytes} fit one Kafka message (${limit.source}: ${limit.maxMessageBytes} bytes)`;
}

/** True for the error a publish rejects with when an event is too large (runtime's EventTooLargeError). */
export function isEventTooLarge(e: unknown): boolean {
  return (e as { code?: unknown } | null)?.code === 'KEYFLOW_EVENT_TOO_LARGE';
}
