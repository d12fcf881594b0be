// What one Kafka message of the events topic is: an event, a command (a message with the
// keyflow-command header, see actors/command), or a dead letter. Rule: this is the one
// place a worker turns a message's bytes into an event or a command, and a message it
// cannot use is a value here (the worker dead-letters it with this reason), never an
// exception — so no message blocks its partition. A command counts only when keyflow signed
// it (runtime/kafka/trust.ts: anyone who can write to the topic could otherwise erase any user)
// and only on its user's key, because only then is it ordered after that user's events.
import type { KafkaMessage } from 'kafkajs';
import { decodeCommand, decodeEvent, type EraseUserCommand, type KeyflowEvent } from '../../actors/index.ts';
import { SIGNATURE_HEADER, undecodableOf, type MessageTrust } from '../kafka/index.ts';
import { commandOf } from './erasure.ts';

export type DecodedMessage =
  | { readonly kind: 'event'; readonly event: KeyflowEvent }
  | { readonly kind: 'command'; readonly command: EraseUserCommand }
  /** `of`: what the message claimed to be (an event's dead letter counts as consumed). */
  | { readonly kind: 'dead-letter'; readonly of: 'event' | 'command' | 'batch'; readonly reason: string; readonly error: string }
  /** A record of an undecodable batch after its first: nothing to store, its offset is done. */
  | { readonly kind: 'skip' };

/**
 * Decode one Kafka message of the events topic. An event signed by the edge (the edge validated
 * it) is not validated again; any other is, in full. A command runs only when signed as that
 * command for this key and value; without `trust` (no KEYFLOW_EDGE_TOKEN) every command is refused.
 *
 * @example
 * const d = decodeMessage(message, messageTrust(config));
 * if (d.kind === 'dead-letter') … // d.reason: 'not-json', 'schema', 'unsigned-command', …
 */
export function decodeMessage(message: Pick<KafkaMessage, 'headers' | 'key' | 'value'>, trust?: MessageTrust): DecodedMessage {
  const undecodable = undecodableOf(message.headers);
  if (undecodable !== undefined) return undecodable.first ? { kind: 'dead-letter', of: 'batch', reason: 'undecodable-batch', error: undecodable.error } : { kind: 'skip' };
  const name = commandOf(message.headers);
  if (name === undefined) {
    const trusted = trust?.verify(message.headers, message.key, message.value, { event: true }) ?? false;
    const d = decodeEvent(message.value, { trusted });
    return d.ok ? { kind: 'event', event: d.event } : { kind: 'dead-letter', of: 'event', reason: d.reason, error: d.message };
  }
  if (trust === undefined) return { kind: 'dead-letter', of: 'command', reason: 'unsigned-command', error: 'this worker has no KEYFLOW_EDGE_TOKEN: it runs no command' };
  if (!trust.verify(message.headers, message.key, message.value, { command: name })) {
    return { kind: 'dead-letter', of: 'command', reason: 'unsigned-command', error: `command ${JSON.stringify(name.slice(0, 64))} has no valid signature (${SIGNATURE_HEADER}); keyflow did not produce it` };
  }
  const d = decodeCommand(name, message.value);
  if (!d.ok) return { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: d.message };
  const key = message.key?.toString();
  if (key !== d.command.userId) return { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: `command key ${JSON.stringify(key ?? null)} is not its userId` };
  return { kind: 'command', command: d.command };
}
