// What one Kafka message of the events topic is: an event, a command (a message with the
// keyflow-command header, see actors/command), or a dead letter. Rule: this is the one
// place a worker turns a message's bytes into an event or a command, and a message it
// cannot use is a value here (the worker dead-letters it with this reason), never an
// exception — so no message blocks its partition. A command counts only on its user's key,
// because only then is it ordered after that user's events.
import type { KafkaMessage } from 'kafkajs';
import { decodeCommand, decodeEvent, type EraseUserCommand, type KeyflowEvent } from '../../actors/index.ts';
import { fromEdge, undecodableOf } from '../kafka/index.ts';
import { commandOf } from './erasure.ts';

export type DecodedMessage =
  | { readonly kind: 'event'; readonly event: KeyflowEvent }
  | { readonly kind: 'command'; readonly command: EraseUserCommand }
  /** `of`: what the message claimed to be (an event's dead letter counts as consumed). */
  | { readonly kind: 'dead-letter'; readonly of: 'event' | 'command' | 'batch'; readonly reason: string; readonly error: string }
  /** A record of an undecodable batch after its first: nothing to store, its offset is done. */
  | { readonly kind: 'skip' };

/**
 * Decode one message of the events topic. An event carrying `edgeToken` (the edge's proof that
 * it validated it, runtime/kafka/trust.ts) is not validated again; any other is, in full.
 */
export function decodeMessage(message: Pick<KafkaMessage, 'headers' | 'key' | 'value'>, edgeToken?: Buffer): DecodedMessage {
  const undecodable = undecodableOf(message.headers);
  if (undecodable !== undefined) return undecodable.first ? { kind: 'dead-letter', of: 'batch', reason: 'undecodable-batch', error: undecodable.error } : { kind: 'skip' };
  const name = commandOf(message.headers);
  if (name === undefined) {
    const d = decodeEvent(message.value, { trusted: fromEdge(message.headers, edgeToken) });
    return d.ok ? { kind: 'event', event: d.event } : { kind: 'dead-letter', of: 'event', reason: d.reason, error: d.message };
  }
  const d = decodeCommand(name, message.value);
  if (!d.ok) return { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: d.message };
  const key = message.key?.toString();
  if (key !== d.command.userId) return { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: `command key ${JSON.stringify(key ?? null)} is not its userId` };
  return { kind: 'command', command: d.command };
}
