import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lifecycle, TRANSITIONS } from './lifecycle.ts';

test('lifecycle - starts starting and moves along its table: starting → running → draining → stopped', () => {
  const l = new Lifecycle('worker 3');
  assert.equal(l.state, 'starting');
  l.to('running');
  l.to('draining');
  l.to('stopped');
  assert.equal(l.state, 'stopped');
});

test('lifecycle - an illegal transition throws naming its owner and both states, and leaves the state as it was', () => {
  const l = new Lifecycle('worker 3');
  l.to('running');
  assert.throws(() => l.to('starting'), { message: 'worker 3: illegal transition running → starting' });
  assert.equal(l.state, 'running');
  l.to('draining');
  l.to('stopped');
  assert.throws(() => l.to('failed'), { message: 'worker 3: illegal transition stopped → failed' });
  assert.throws(() => new Lifecycle('supervisor', TRANSITIONS, 'failed').to('draining'), { message: 'supervisor: illegal transition failed → draining' });
});

test('lifecycle - can() answers without moving; an owner may pass its own table', () => {
  const l = new Lifecycle('supervisor', { ...TRANSITIONS, failed: ['draining'] });
  l.to('failed');
  assert.equal(l.can('draining'), true);
  assert.equal(l.can('running'), false);
  assert.equal(l.state, 'failed');
  l.to('draining');
  assert.equal(l.state, 'draining');
});
