import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMAND_HEADER, ERASE_USER, encodeEraseUser } from '../../actors/index.ts';
import { EDGE_TOKEN_HEADER } from '../kafka/index.ts';
import { decodeMessage } from './decode-message.ts';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const event = { id: 'e1', type: 'ad.view', source: 'web', occurredAt: Date.parse('2026-01-01T00:00:00Z') };
const erase = { type: ERASE_USER, erasureId: 'x1', userId: 'u-42', requestedAt: Date.parse('2026-01-02T00:00:00Z') } as const;

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

test("decodeMessage - a command on its user's key is a command", () => {
  const d = decodeMessage({ key: bytes('u-42'), value: bytes(encodeEraseUser(erase)), headers: { [COMMAND_HEADER]: bytes(ERASE_USER) } });
  assert.deepEqual(d, { kind: 'command', command: erase });
});

test('decodeMessage - a command on another key, an unknown command or a bad value is a bad-command dead letter', () => {
  const value = bytes(encodeEraseUser(erase));
  const header = { [COMMAND_HEADER]: bytes(ERASE_USER) };
  assert.deepEqual(decodeMessage({ key: bytes('u-7'), value, headers: header }), { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: 'command key "u-7" is not its userId' });
  assert.deepEqual(decodeMessage({ key: null, value, headers: header }), { kind: 'dead-letter', of: 'command', reason: 'bad-command', error: 'command key null is not its userId' });
  const unknown = decodeMessage({ key: bytes('u-42'), value, headers: { [COMMAND_HEADER]: [bytes('drop-table')] } });
  assert.equal(unknown.kind === 'dead-letter' && `${unknown.of} ${unknown.reason} ${unknown.error}`, 'command bad-command unknown command "drop-table"');
  const bad = decodeMessage({ key: bytes('u-42'), value: bytes('not json'), headers: header });
  assert.equal(bad.kind === 'dead-letter' && bad.reason, 'bad-command');
});

test("decodeMessage - an event with the edge's token is trusted, not validated again; without it or with another it is", () => {
  const token = bytes('a-token-of-24-characters');
  // Shaped like the wire form but invalid (an empty type): only a full validation refuses it.
  const value = bytes(JSON.stringify({ id: 'e2', type: '', source: 'web', occurredAt: '2026-01-01T00:00:00.000Z' }));
  const trusted = decodeMessage({ key: null, value, headers: { [EDGE_TOKEN_HEADER]: token } }, token);
  assert.equal(trusted.kind === 'event' && trusted.event.occurredAt, Date.parse('2026-01-01T00:00:00Z'));
  for (const headers of [{}, { [EDGE_TOKEN_HEADER]: bytes('another-token-24-chars!!') }]) {
    const d = decodeMessage({ key: null, value, headers }, token);
    assert.equal(d.kind === 'dead-letter' && d.reason, 'schema');
  }
  assert.equal(decodeMessage({ key: null, value, headers: { [EDGE_TOKEN_HEADER]: token } }).kind, 'dead-letter', 'no token configured: nothing is trusted');
});
