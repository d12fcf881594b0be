import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connectionEnv, loadSettings, repoRoot, ServicesSettingsError } from './settings.ts';

test('services settings - by default everything lives in .keyflow/services on the project ports', () => {
  const s = loadSettings({});
  assert.equal(s.servicesDir, join(repoRoot, '.keyflow', 'services'));
  assert.equal(s.profile, 'dev');
  assert.deepEqual(connectionEnv(s), {
    DATABASE_URL: 'postgres://keyflow:keyflow@127.0.0.1:55432/keyflow',
    REDIS_URL: 'redis://127.0.0.1:56379',
    KAFKA_BROKERS: '127.0.0.1:59092',
  });
});

test('services settings - ports, folder and profile follow their KEYFLOW_ variables', () => {
  const s = loadSettings({ KEYFLOW_PG_PORT: '6000', KEYFLOW_KAFKA_PORT: '6001', KEYFLOW_SERVICES_DIR: '/tmp/kf', KEYFLOW_SERVICES_PROFILE: 'test' });
  assert.equal(s.servicesDir, '/tmp/kf');
  assert.equal(s.profile, 'test');
  assert.equal(connectionEnv(s).DATABASE_URL, 'postgres://keyflow:keyflow@127.0.0.1:6000/keyflow');
  assert.equal(connectionEnv(s).KAFKA_BROKERS, '127.0.0.1:6001');
});

test('services settings - an invalid value is rejected with the variable named', () => {
  assert.throws(() => loadSettings({ KEYFLOW_REDIS_PORT: 'six' }), (e: unknown) => {
    assert.ok(e instanceof ServicesSettingsError);
    assert.match(e.message, /KEYFLOW_REDIS_PORT/);
    return true;
  });
  assert.throws(() => loadSettings({ KEYFLOW_SERVICES_PROFILE: 'prod' }), /KEYFLOW_SERVICES_PROFILE/);
});

test('services settings - Prometheus listens on 59090 unless KEYFLOW_PROMETHEUS_PORT says otherwise', () => {
  assert.equal(loadSettings({}).prometheusPort, 59090);
  assert.equal(loadSettings({ KEYFLOW_PROMETHEUS_PORT: '59191' }).prometheusPort, 59191);
  assert.throws(() => loadSettings({ KEYFLOW_PROMETHEUS_PORT: '0' }), /KEYFLOW_PROMETHEUS_PORT/);
});
