import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './config.ts';

test('config - defaults apply when nothing is set, and the result is frozen', () => {
  const c = loadConfig({});
  assert.equal(c.topic, 'keyflow.events');
  assert.equal(c.partitions, 12);
  assert.equal(c.maxBodyBytes, 1024 * 1024);
  assert.deepEqual(c.kafkaBrokers, ['127.0.0.1:59092']);
  assert.ok(Object.isFrozen(c));
});

test('config - values are parsed into their types', () => {
  const c = loadConfig({ KEYFLOW_WORKERS: '3', KAFKA_BROKERS: 'a:1, b:2', KEYFLOW_API_KEYS: 'k1,k2', KEYFLOW_FAULTS: '1' });
  assert.equal(c.workers, 3);
  assert.deepEqual(c.kafkaBrokers, ['a:1', 'b:2']);
  assert.deepEqual(c.apiKeys, ['k1', 'k2']);
  assert.equal(c.faultsEnabled, true);
});

test('config - an invalid value stops start-up with a message naming the variable', () => {
  assert.throws(() => loadConfig({ KEYFLOW_WORKERS: 'many' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /KEYFLOW_WORKERS="many"/);
    return true;
  });
});

test('config - an unknown KEYFLOW_ variable is rejected by name', () => {
  assert.throws(() => loadConfig({ KEYFLOW_WORKRES: '2' }), /KEYFLOW_WORKRES: unknown variable/);
});
