import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../otel/index.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../log/index.ts';
import { Supervisor } from './supervisor.ts';

const supervisor = (): Supervisor => new Supervisor({ config: loadConfig({}), log: createLogger('silent'), metrics: createMetrics().metrics, onFatal: () => undefined });

test('supervisor - `await using` drains it at the end of its scope; draining again is a no-op', async () => {
  let held: Supervisor | undefined;
  {
    await using sup = supervisor();
    held = sup;
    assert.equal(sup.state, 'starting');
  }
  assert.equal(held.state, 'stopped');
  await held.drain();
  await held[Symbol.asyncDispose]();
  assert.equal(held.state, 'stopped');
});
