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
  assert.deepEqual(c.apiKeys, [
    { name: 'key-1', secret: 'k1', scopes: ['ingest', 'read', 'admin'] },
    { name: 'key-2', secret: 'k2', scopes: ['ingest', 'read', 'admin'] },
  ]);
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

test('config - API keys are name:secret:scope+scope entries; bad ones are refused by entry', () => {
  const c = loadConfig({ KEYFLOW_API_KEYS: 'ci:s1:ingest, dash:s2:read+admin, legacy, ops:s4' });
  assert.deepEqual(c.apiKeys, [
    { name: 'ci', secret: 's1', scopes: ['ingest'] },
    { name: 'dash', secret: 's2', scopes: ['read', 'admin'] },
    { name: 'key-3', secret: 'legacy', scopes: ['ingest', 'read', 'admin'] },
    { name: 'ops', secret: 's4', scopes: ['ingest', 'read', 'admin'] },
  ]);
  assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: 'ci:s1:write' }), /KEYFLOW_API_KEYS=.*unknown scope "write"/);
  assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: 'a:s1:read,a:s2:read' }), /"a" appears twice/);
  assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: 'a:s1:read,b:s1:read' }), /share one secret/);
  assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: 'a::read' }), /secret is empty/);
  assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: 'a:b:c:d' }), /expected name:secret:scope/);
});

test('config - rate limits are off unless a rate is set; a burst alone is refused', () => {
  const off = loadConfig({});
  assert.equal(off.rateLimitPerSec, undefined);
  assert.equal(off.rateLimitBurst, undefined);
  const on = loadConfig({ KEYFLOW_RATE_LIMIT_PER_SEC: '2.5', KEYFLOW_RATE_LIMIT_BURST: '10' });
  assert.equal(on.rateLimitPerSec, 2.5);
  assert.equal(on.rateLimitBurst, 10);
  assert.throws(() => loadConfig({ KEYFLOW_RATE_LIMIT_BURST: '10' }), /KEYFLOW_RATE_LIMIT_BURST: needs KEYFLOW_RATE_LIMIT_PER_SEC/);
  assert.throws(() => loadConfig({ KEYFLOW_RATE_LIMIT_PER_SEC: '0' }), /KEYFLOW_RATE_LIMIT_PER_SEC/);
  assert.throws(() => loadConfig({ KEYFLOW_INTERNAL_TOKEN: 'short' }), /KEYFLOW_INTERNAL_TOKEN.*16/);
  assert.equal(loadConfig({}).bodyTimeoutMs, 15_000);
});

test('config - the edge token is a shared secret of 16+ characters, never printed; unset, nothing is signed', () => {
  assert.equal(loadConfig({}).edgeToken, undefined, 'unset: commands are refused, events validated in full');
  assert.equal(loadConfig({ KEYFLOW_EDGE_TOKEN: '' }).edgeToken, undefined);
  assert.equal(loadConfig({ KEYFLOW_EDGE_TOKEN: 'x'.repeat(16) }).edgeToken, 'x'.repeat(16));
  const short = 'edge-Sh0rtValue';
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN: short }), (e: Error) => /KEYFLOW_EDGE_TOKEN=\(secret, not shown\): a shared secret of at least 16 characters/.test(e.message) && !e.message.includes(short));
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN: 'x'.repeat(257) }), (e: Error) => /KEYFLOW_EDGE_TOKEN=.*at most 256/.test(e.message) && !e.message.includes('x'.repeat(17)));
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN_PREVIOUS: 'p'.repeat(5) }), (e: Error) => /KEYFLOW_EDGE_TOKEN_PREVIOUS=\(secret, not shown\)/.test(e.message) && !e.message.includes('ppppp'));
  const rotating = loadConfig({ KEYFLOW_EDGE_TOKEN: 'the-new-secret-1234', KEYFLOW_EDGE_TOKEN_PREVIOUS: 'the-old-secret-1234' });
  assert.deepEqual([rotating.edgeToken, rotating.edgeTokenPrevious], ['the-new-secret-1234', 'the-old-secret-1234']);
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN_PREVIOUS: 'the-old-secret-1234' }), /KEYFLOW_EDGE_TOKEN_PREVIOUS: needs KEYFLOW_EDGE_TOKEN/);
});

test('config - KEYFLOW_MAX_FUTURE is a duration (default 1d)', () => {
  assert.equal(loadConfig({}).maxFutureMs, 86_400_000);
  assert.equal(loadConfig({ KEYFLOW_MAX_FUTURE: '30m' }).maxFutureMs, 1_800_000);
  assert.equal(loadConfig({ KEYFLOW_MAX_FUTURE: '1h' }).maxFutureMs, 3_600_000);
  assert.equal(loadConfig({ KEYFLOW_MAX_FUTURE: '90s' }).maxFutureMs, 90_000);
  assert.equal(loadConfig({ KEYFLOW_MAX_FUTURE: '0' }).maxFutureMs, 0);
  for (const bad of ['1w', '-1d', 'soon', '1.5h', '3651d']) assert.throws(() => loadConfig({ KEYFLOW_MAX_FUTURE: bad }), /KEYFLOW_MAX_FUTURE=.*a duration such as 30m, 1h or 1d/, bad);
});

test('config - the stall window defaults to 30 s; the test-only batch failure switch is refused without KEYFLOW_FAULTS=1', () => {
  const d = loadConfig({});
  assert.equal(d.stallMs, 30_000);
  assert.equal(d.batchRetryBaseMs, 2_000);
  assert.equal(d.testFailBatch, undefined);
  assert.throws(() => loadConfig({ KEYFLOW_TEST_FAIL_BATCH: '1:42' }), /KEYFLOW_TEST_FAIL_BATCH: a test-only switch .* needs KEYFLOW_FAULTS=1/);
  assert.throws(() => loadConfig({ KEYFLOW_FAULTS: '1', KEYFLOW_TEST_FAIL_BATCH: '1-42' }), /KEYFLOW_TEST_FAIL_BATCH="1-42": partition:offset/);
  assert.deepEqual(loadConfig({ KEYFLOW_FAULTS: '1', KEYFLOW_TEST_FAIL_BATCH: '1:042' }).testFailBatch, { partition: 1, offset: '42' });
});
