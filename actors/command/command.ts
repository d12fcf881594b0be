// Commands that travel the events topic beside events, keyed like the events they act on.
// Rule: a message is a command only when it carries the header COMMAND_HEADER; its body is
// then a command and never an event. A message without the header is an event whatever its
// body says, so no producer can erase a user by sending an event shaped like a command.
import { z } from 'zod';

/** The Kafka header that marks a command; its value names the command. */
export const COMMAND_HEADER = 'keyflow-command';

/** The value of COMMAND_HEADER for an erasure. */
export const ERASE_USER = 'erase-user';

const eraseUserSchema = z.strictObject({
  erasureId: z.string().min(1).max(128),
  userId: z.string().min(1).max(128),
  requestedAt: z.iso.datetime({ offset: true }),
});

/** Erase one user: everything of theirs stored before this command's place in the partition. */
export type EraseUserCommand = { readonly type: typeof ERASE_USER; readonly erasureId: string; readonly userId: string; readonly requestedAt: number };

export type DecodedCommand =
  | { readonly ok: true; readonly command: EraseUserCommand }
  | { readonly ok: false; readonly message: string };

/**
 * The wire form of an erasure command (the value of its Kafka message).
 *
 * @example
 * encodeEraseUser({ type: 'erase-user', erasureId: 'e1', userId: 'u-42', requestedAt: 0 });
 * // '{"erasureId":"e1","userId":"u-42","requestedAt":"1970-01-01T00:00:00.000Z"}'
 */
export function encodeEraseUser(c: EraseUserCommand): string {
  return JSON.stringify({ erasureId: c.erasureId, userId: c.userId, requestedAt: new Date(c.requestedAt).toISOString() });
}

/**
 * Decode a message that carries COMMAND_HEADER with value `name`; a failure is a value (the
 * worker dead-letters it), never an exception.
 */
export function decodeCommand(name: string, value: Uint8Array | string | null): DecodedCommand {
  if (name !== ERASE_USER) return { ok: false, message: `unknown command ${JSON.stringify(name.slice(0, 64))}` };
  if (value === null || value.length === 0) return { ok: false, message: 'command has no value' };
  if (value.length > 4096) return { ok: false, message: `command value is ${value.length} bytes; at most 4096` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch (e) {
    return { ok: false, message: `not JSON: ${(e as Error).message}` };
  }
  const r = eraseUserSchema.safeParse(parsed);
  if (!r.success) return { ok: false, message: r.error.issues.map((i) => `${i.path.map(String).join('.') || '(command)'}: ${i.message}`).join('; ') };
  return { ok: true, command: { type: ERASE_USER, erasureId: r.data.erasureId, userId: r.data.userId, requestedAt: Date.parse(r.data.requestedAt) } };
}
