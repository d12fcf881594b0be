import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeEraseUser, ERASE_USER } from './index.ts';

test('command - an erasure command round-trips through its wire form', () => {
  const c = { type: ERASE_USER, erasureId: 'x-1', userId: 'u-42', requestedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 6) } as const;
  assert.deepEqual(decodeCommand(ERASE_USER, encodeEraseUser(c)), { ok: true, command: c });
});

test('command - a bad or unknown command is a value naming what is wrong, never an exception', () => {
  const bad = decodeCommand(ERASE_USER, '{"erasureId":"x","userId":"","requestedAt":"2026-01-01T00:00:00Z"}');
  assert.equal(bad.ok, false);
  assert.match(!bad.ok ? bad.message : '', /userId/);
  assert.equal(decodeCommand(ERASE_USER, 'not json').ok, false);
  assert.equal(decodeCommand(ERASE_USER, null).ok, false);
  assert.equal(decodeCommand(ERASE_USER, '{"erasureId":"x","userId":"u","requestedAt":"2026-01-01T00:00:00Z","extra":1}').ok, false);
  const unknown = decodeCommand('drop-table', '{}');
  assert.match(!unknown.ok ? unknown.message : '', /unknown command/);
});
