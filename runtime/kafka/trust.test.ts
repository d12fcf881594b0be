import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageTrust, messageTrust, SIGNATURE_HEADER } from './trust.ts';

const secret = 'a-shared-edge-token-0123';
const trust = new MessageTrust(secret);
const key = Buffer.from('u-42');
const value = Buffer.from('{"erasureId":"x1","userId":"u-42","requestedAt":"2026-01-02T00:00:00.000Z"}');
const erase = { command: 'erase-user' } as const;

test('trust - a message signed with the secret verifies, as the kind, key and value it was signed for', () => {
  const sig = trust.sign(key.toString(), value.toString(), erase);
  assert.equal(sig.length, 43);
  assert.equal(trust.verify({ [SIGNATURE_HEADER]: Buffer.from(sig) }, key, value, erase), true);
  assert.equal(trust.verify({ [SIGNATURE_HEADER]: sig, other: Buffer.from('x') }, key, value, erase), true, 'a string header (a hand-built message) counts the same');
  assert.equal(new MessageTrust(secret).verify({ [SIGNATURE_HEADER]: sig }, key, value, erase), true, 'another process with the same secret (a restart) verifies it');
});

test('trust - a signature copied onto another key, value or kind does not verify', () => {
  const sig = trust.sign(key, value, erase);
  const h = { [SIGNATURE_HEADER]: Buffer.from(sig) };
  assert.equal(trust.verify(h, Buffer.from('victim'), value, erase), false, 'another user');
  assert.equal(trust.verify(h, key, Buffer.from(value.toString().replace('x1', 'x2')), erase), false, 'another erasureId');
  assert.equal(trust.verify(h, key, value, { command: 'erase-all' }), false, 'another command');
  assert.equal(trust.verify(h, key, value, { event: true }), false, "a command's signature is no event's");
  const eventSig = trust.sign(key, value, { event: true });
  assert.equal(trust.verify({ [SIGNATURE_HEADER]: eventSig }, key, value, erase), false, "an event's signature is no command's");
  assert.equal(trust.verify(h, null, value, erase), false, 'no key');
  // Length-prefixed parts: moving bytes between key and value changes the signature.
  assert.notEqual(trust.sign('ab', 'c', { event: true }), trust.sign('a', 'bc', { event: true }));
  assert.notEqual(trust.sign(null, 'c', { event: true }), trust.sign('', 'c', { event: true }));
});

test('trust - no header, a repeated, truncated or altered one, or another secret, does not verify', () => {
  const sig = trust.sign(key, value, erase);
  for (const headers of [undefined, {}, { [SIGNATURE_HEADER]: undefined }, { [SIGNATURE_HEADER]: Buffer.alloc(0) }, { [SIGNATURE_HEADER]: [Buffer.from(sig)] },
    { [SIGNATURE_HEADER]: [Buffer.from(sig), Buffer.from(sig)] }, { [SIGNATURE_HEADER]: sig.slice(0, -1) }, { [SIGNATURE_HEADER]: `${sig}x` },
    { [SIGNATURE_HEADER]: `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}` }, { 'Keyflow-Signature': sig }, { [SIGNATURE_HEADER]: secret }]) {
    assert.equal(trust.verify(headers, key, value, erase), false, JSON.stringify(headers));
  }
  assert.equal(new MessageTrust('another-secret-of-24-chars').verify({ [SIGNATURE_HEADER]: sig }, key, value, erase), false);
});

test('trust - the secret never travels: the signature does not contain it and is not reversible to it', () => {
  const sig = trust.sign(key, value, { event: true });
  assert.ok(!sig.includes(secret) && !Buffer.from(sig, 'base64url').toString('latin1').includes(secret));
});

test('trust - during a rotation the previous secret still verifies but never signs', () => {
  const old = new MessageTrust('the-old-secret-1234');
  const rotated = new MessageTrust('the-new-secret-1234', 'the-old-secret-1234');
  const before = old.sign(key, value, erase);
  assert.equal(rotated.verify({ [SIGNATURE_HEADER]: before }, key, value, erase), true, 'signed before the rotation, still waiting in Kafka');
  const after = rotated.sign(key, value, erase);
  assert.notEqual(after, before, 'new messages are signed with the new secret');
  assert.equal(new MessageTrust('the-new-secret-1234').verify({ [SIGNATURE_HEADER]: after }, key, value, erase), true);
  assert.equal(old.verify({ [SIGNATURE_HEADER]: after }, key, value, erase), false);
});

test('trust - without a secret there is no trust at all', () => {
  assert.equal(messageTrust({}), undefined);
  assert.equal(messageTrust({ edgeToken: undefined, edgeTokenPrevious: 'the-old-secret-1234' }), undefined);
  assert.ok(messageTrust({ edgeToken: secret }) instanceof MessageTrust);
});
