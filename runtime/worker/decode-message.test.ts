import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND_HEADER, ERASE_USER, encodeEraseUser } from '../../actors/index.ts';
import { MessageTrust, SIGNATURE_HEADER } from '../kafka/index.ts';
import { decodeMessage } from './decode-message.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const event = { id: 'e1', type: 'ad.view', source: 'web', occurredAt: Date.parse('2026-01-01T00:00:00Z') };
const erase = { type: ERASE_USER, erasureId: 'x1', userId: 'u-42', requestedAt: Date.parse('2026-01-02T00:00:00Z') } as const;
const trust = new MessageTrust('a-token-of-24-characters');
/** The headers keyflow's edge puts on a command: its name and its signature. */
const signedCommand = (key: string, value: string, name: string = ERASE_USER) => ({ [COMMAND_HEADER]: bytes(name), [SIGNATURE_HEADER]: bytes(trust.sign(key, value, { command: name })) });

test('decodeMessage - a message without the command header is an event', () => {
  const d = decodeMessage({ key: bytes('u-1'), value: bytes(JSON.stringify(event)), headers: {} });
  assert.equal(d.kind, 'event');
  assert.equal(d.kind === 'event' && d.event.id, 'e1');
});

test("decodeMessage - an event that does not decode is a dead letter with the decoder's reason", () => {
  assert.deepEqual(decodeMessage({ key: null, value: null }), { kind: 'dead-letter', of: 'event', reason: 'empty', error: 'message has no value' });
  const d = decodeMessage({ key: null, value: bytes('{'), headers: {} });
  assert.equal(d.kind === 'dead-letter' && `${d.of} ${d.reason}`, 'event not-json');
  const s = decodeMessage({ key: null, value: bytes('{"id":1}'), headers: {} });
  assert.equal(s.kind === 'dead-letter' && s.reason, 'schema');
});

test("decodeMessage - a signed command on its user's key is a command", () => {
  const value = encodeEraseUser(erase);
  const d = decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: signedCommand('u-42', value) }, trust);
  assert.deepEqual(d, { kind: 'command', command: erase });
});

test('decodeMessage - a command keyflow did not sign is an unsigned-command dead letter, never a command', () => {
  const value = encodeEraseUser(erase);
  const unsigned = (d: ReturnType<typeof decodeMessage>): string => (d.kind === 'dead-letter' ? `${d.of} ${d.reason}` : d.kind);
  // Forged: the header only, as any producer can write it.
  assert.equal(unsigned(decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: { [COMMAND_HEADER]: bytes(ERASE_USER) } }, trust)), 'command unsigned-command');
  // A real signature copied onto another user's erasure.
  const victim = encodeEraseUser({ ...erase, userId: 'victim' });
  const copied = { [COMMAND_HEADER]: bytes(ERASE_USER), [SIGNATURE_HEADER]: signedCommand('u-42', value)[SIGNATURE_HEADER] };
  assert.equal(unsigned(decodeMessage({ key: bytes('victim'), value: bytes(victim), headers: copied }, trust)), 'command unsigned-command');
  // Replayed with another erasureId.
  const replayed = encodeEraseUser({ ...erase, erasureId: 'x2' });
  assert.equal(unsigned(decodeMessage({ key: bytes('u-42'), value: bytes(replayed), headers: copied }, trust)), 'command unsigned-command');
  // Signed with another secret, or as an event.
  const other = new MessageTrust('another-token-24-chars!!');
  assert.equal(unsigned(decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: { [COMMAND_HEADER]: bytes(ERASE_USER), [SIGNATURE_HEADER]: bytes(other.sign('u-42', value, { command: ERASE_USER })) } }, trust)), 'command unsigned-command');
  assert.equal(unsigned(decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: { [COMMAND_HEADER]: bytes(ERASE_USER), [SIGNATURE_HEADER]: bytes(trust.sign('u-42', value, { event: true })) } }, trust)), 'command unsigned-command');
  // A worker without the secret runs no command, even a well-signed one.
  const none = decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: signedCommand('u-42', value) });
  assert.equal(none.kind === 'dead-letter' && `${none.reason}: ${none.error}`, 'unsigned-command: this worker has no KEYFLOW_EDGE_TOKEN: it runs no command');
});

test('decodeMessage - a signed command on another key, an unknown command or a bad value is a bad-command dead letter', () => {
  const value = encodeEraseUser(erase);
  // Signed for the key it travels with, yet not its user's key.
  assert.deepEqual(decodeMessage({ key: bytes('u-7'), value: bytes(value), headers: signedCommand('u-7', value) }, trust), { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: 'command key "u-7" is not its userId' });
  const unknown = decodeMessage({ key: bytes('u-42'), value: bytes(value), headers: { ...signedCommand('u-42', value, 'drop-table'), [COMMAND_HEADER]: [bytes('drop-table')] } }, trust);
  assert.equal(unknown.kind === 'dead-letter' && `${unknown.of} ${unknown.reason} ${unknown.error}`, 'command bad-command unknown command "drop-table"');
  const bad = decodeMessage({ key: bytes('u-42'), value: bytes('not json'), headers: signedCommand('u-42', 'not json') }, trust);
  assert.equal(bad.kind === 'dead-letter' && bad.reason, 'bad-command');
});

test("decodeMessage - an event signed by the edge is trusted, not validated again; without its signature, or with one copied from another message, it is", () => {
  // Shaped like the wire form but invalid (an empty type): only a full validation refuses it.
  const value = JSON.stringify({ id: 'e2', type: '', source: 'web', occurredAt: '2026-01-01T00:00:00.000Z' });
  const signature = bytes(trust.sign('u-1', value, { event: true }));
  const trusted = decodeMessage({ key: bytes('u-1'), value: bytes(value), headers: { [SIGNATURE_HEADER]: signature } }, trust);
  assert.equal(trusted.kind === 'event' && trusted.event.occurredAt, Date.parse('2026-01-01T00:00:00Z'));
  for (const headers of [{}, { [SIGNATURE_HEADER]: bytes('another-token-24-chars!!') }, { 'keyflow-edge-token': bytes('a-token-of-24-characters') }]) {
    const d = decodeMessage({ key: bytes('u-1'), value: bytes(value), headers }, trust);
    assert.equal(d.kind === 'dead-letter' && d.reason, 'schema');
  }
  assert.equal(decodeMessage({ key: bytes('u-1'), value: bytes(value), headers: { [SIGNATURE_HEADER]: signature } }).kind, 'dead-letter', 'no secret configured: nothing is trusted');
});

test('decodeMessage - a copied signature on a hand-made NaN-revenue event is dead-lettered by the full validation', () => {
  // What the edge signed: a valid event of u-1.
  const genuine = JSON.stringify({ id: 'e3', type: 'purchase', source: 'web', occurredAt: '2026-01-01T00:00:00.000Z', userId: 'u-1', revenue: { amount: 1, currency: 'USD' } });
  const signature = bytes(trust.sign('u-1', genuine, { event: true }));
  for (const amount of ['"NaN"', 'NaN', '"Infinity"', '1e400', 'null']) {
    const forged = genuine.replace('"amount":1', `"amount":${amount}`);
    const d = decodeMessage({ key: bytes('u-1'), value: bytes(forged), headers: { [SIGNATURE_HEADER]: signature } }, trust);
    assert.ok(d.kind === 'dead-letter' && (d.reason === 'schema' || d.reason === 'not-json'), `${amount}: ${JSON.stringify(d)}`);
  }
  // The full validator alone (no signature at all) refuses the string "NaN" too.
  const alone = decodeMessage({ key: bytes('u-1'), value: bytes(genuine.replace('"amount":1', '"amount":"NaN"')), headers: {} }, trust);
  assert.equal(alone.kind === 'dead-letter' && alone.reason, 'schema');
  assert.match(alone.kind === 'dead-letter' ? alone.error : '', /revenue\.amount/);
});
