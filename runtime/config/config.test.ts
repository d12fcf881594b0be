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
  const c = loadConfig({ KEYFLOW_WORKERS: '3', KAFKA_BROKERS: 'a:1, b:2', KEYFLOW_API_KEYS: 'k1:q7Vb1xT0p9LmZr3KwS5d:ingest+read+admin', KEYFLOW_FAULTS: '1' });
  assert.equal(c.workers, 3);
  assert.deepEqual(c.kafkaBrokers, ['a:1', 'b:2']);
  assert.deepEqual(c.apiKeys, [{ name: 'k1', secret: 'q7Vb1xT0p9LmZr3KwS5d', scopes: ['ingest', 'read', 'admin'] }]);
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

const S1 = 'q7Vb1xT0p9LmZr3KwS5d';
const S2 = 'Hc4nR8yWq2Lz6Tp0Xv3B';

test('config - API keys are exactly name:secret:scope+scope entries', () => {
  const c = loadConfig({ KEYFLOW_API_KEYS: ` ci:${S1}:ingest, dash:${S2}:read+admin ` });
  assert.deepEqual(c.apiKeys, [
    { name: 'ci', secret: S1, scopes: ['ingest'] },
    { name: 'dash', secret: S2, scopes: ['read', 'admin'] },
  ]);
});

test('config - a bad key stops start-up naming the variable and the entry, never the secret', () => {
  const cases: [string, RegExp][] = [
    [S1, /entry 1: expected name:secret:scope\+scope \(1 field, not 3\)/],
    [`Xy7secret:${S1}`, /entry 1: expected name:secret:scope\+scope \(2 fields, not 3\)/],
    [`ops:${S1}:admin:extra`, /entry 1: expected name:secret:scope\+scope \(4 fields, not 3\)/],
    [`ops:${S1}:admn`, /entry 1 \("ops"\): unknown scope \(known: ingest, read, admin/],
    [`ops:${S1}:`, /entry 1 \("ops"\): unknown scope/],
    [`ops:${S1}:read+read`, /entry 1 \("ops"\): a scope appears twice/],
    ['ops:Sh0rt-s3cret:read', /entry 1 \("ops"\): the secret has 12 characters, fewer than 16/],
    ['ops:change-me-admin-secret:admin', /entry 1 \("ops"\): the secret is a placeholder/],
    ['ops:CHANGEME0123456789:admin', /the secret is a placeholder/],
    ['ops:xxxxxxxxxxxxxxxxxxxx:admin', /the secret is a placeholder/],
    [`ops:${S1} x:admin`, /printable ASCII only/],
    [`a:${S1}:read,a:${S2}:read`, /the key name "a" appears twice/],
    [`a:${S1}:read,b:${S1}:read`, /two entries share one secret/],
    [`bad name:${S1}:read`, /entry 1: the name must match/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(() => loadConfig({ KEYFLOW_API_KEYS: value }), (e: unknown) => {
      assert.ok(e instanceof ConfigError, value);
      assert.match(e.message, /KEYFLOW_API_KEYS: /, value);
      assert.match(e.message, expected, value);
      for (const secret of [S1, S2, 'Sh0rt-s3cret', 'change-me-admin-secret', 'Xy7secret']) assert.ok(!e.message.includes(secret), `${value}: ${e.message}`);
      return true;
    });
  }
});

test('config - secret settings are never echoed in a config error', () => {
  const secret = 'an-internal-token-value';
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN: 'sh0rt' }), (e: unknown) => e instanceof ConfigError && /KEYFLOW_EDGE_TOKEN: /.test(e.message) && !e.message.includes('sh0rt'));
  assert.throws(() => loadConfig({ DATABASE_URL: `not a url ${secret}` }), (e: unknown) => e instanceof ConfigError && /DATABASE_URL: /.test(e.message) && !e.message.includes(secret));
});

test('config - without API keys keyflow listens on loopback only, unless KEYFLOW_AUTH=none opens it', () => {
  assert.equal(loadConfig({}).host, '127.0.0.1');
  for (const host of ['localhost', '127.0.0.2', '::1']) assert.equal(loadConfig({ KEYFLOW_HOST: host }).host, host);
  for (const host of ['0.0.0.0', '::', '192.168.1.4', 'keyflow.internal']) {
    assert.throws(() => loadConfig({ KEYFLOW_HOST: host }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /KEYFLOW_HOST=.* is not a loopback address and KEYFLOW_API_KEYS is empty/);
      assert.match(e.message, /KEYFLOW_AUTH=none/);
      return true;
    });
  }
  const open = loadConfig({ KEYFLOW_HOST: '0.0.0.0', KEYFLOW_AUTH: 'none' });
  assert.equal(open.auth, 'none');
  assert.equal(loadConfig({ KEYFLOW_HOST: '0.0.0.0', KEYFLOW_API_KEYS: `ci:${S1}:read` }).auth, 'keys');
  assert.throws(() => loadConfig({ KEYFLOW_AUTH: 'none', KEYFLOW_API_KEYS: `ci:${S1}:read` }), /KEYFLOW_AUTH=none: KEYFLOW_API_KEYS is set too/);
  assert.throws(() => loadConfig({ KEYFLOW_AUTH: 'off' }), /KEYFLOW_AUTH="off"/);
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
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN: short }), (e: Error) => /KEYFLOW_EDGE_TOKEN: a shared secret of at least 16 characters/.test(e.message) && !e.message.includes(short));
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN: 'x'.repeat(257) }), (e: Error) => /KEYFLOW_EDGE_TOKEN: .*at most 256/.test(e.message) && !e.message.includes('x'.repeat(17)));
  assert.throws(() => loadConfig({ KEYFLOW_EDGE_TOKEN_PREVIOUS: 'p'.repeat(5) }), (e: Error) => /KEYFLOW_EDGE_TOKEN_PREVIOUS: /.test(e.message) && !e.message.includes('ppppp'));
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
