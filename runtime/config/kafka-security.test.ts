import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n';
const secret = 'S3cret-Kafka-Pass-1234';

/** The message of the ConfigError that `env` raises. */
function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(Object.keys(env))}`);
}

test('kafka security config - unset means no SASL and no TLS', () => {
  const c = loadConfig({});
  assert.equal(c.kafkaSaslMechanism, undefined);
  assert.equal(c.kafkaSaslUsername, undefined);
  assert.equal(c.kafkaSaslPassword, undefined);
  assert.equal(c.kafkaSsl, false);
});

test('kafka security config - each mechanism is taken with a user name and a password', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    const c = loadConfig({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'keyflow', KAFKA_SASL_PASSWORD: secret });
    assert.deepEqual([c.kafkaSaslMechanism, c.kafkaSaslUsername, c.kafkaSaslPassword], [mechanism, 'keyflow', secret]);
  }
});

test('kafka security config - a mechanism without credentials, or credentials without one, stop start-up by name and never show the password', () => {
  assert.match(problem({ KAFKA_SASL_MECHANISM: 'scram-sha-256' }), /KAFKA_SASL_MECHANISM=scram-sha-256: needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  assert.match(problem({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'keyflow' }), /needs KAFKA_SASL_PASSWORD$/m);
  const stray = problem({ KAFKA_SASL_USERNAME: 'keyflow', KAFKA_SASL_PASSWORD: secret });
  assert.match(stray, /KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: set without KAFKA_SASL_MECHANISM/);
  assert.ok(!stray.includes(secret));
  const unknown = problem({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'keyflow', KAFKA_SASL_PASSWORD: secret });
  assert.match(unknown, /KAFKA_SASL_MECHANISM="gssapi"/);
  assert.ok(!unknown.includes(secret));
  const long = `${secret}${'x'.repeat(1100)}`;
  const tooLong = problem({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'keyflow', KAFKA_SASL_PASSWORD: long });
  assert.match(tooLong, /KAFKA_SASL_PASSWORD: at most 1024 characters/);
  assert.ok(!tooLong.includes(secret));
});

test('kafka security config - KAFKA_SSL is true, false, or a CA file read at start-up', () => {
  assert.equal(loadConfig({ KAFKA_SSL: 'true' }).kafkaSsl, true);
  assert.equal(loadConfig({ KAFKA_SSL: 'false' }).kafkaSsl, false);
  const dir = mkdtempSync(join(tmpdir(), 'keyflow-ca-'));
  try {
    const file = join(dir, 'ca.pem');
    writeFileSync(file, PEM);
    assert.deepEqual(loadConfig({ KAFKA_SSL: file }).kafkaSsl, { caFile: file, ca: PEM });
    assert.match(problem({ KAFKA_SSL: join(dir, 'missing.pem') }), /KAFKA_SSL=".*missing\.pem": expected true, false or a readable CA file \(PEM\); cannot use it: ENOENT/);
    const notPem = join(dir, 'key.txt');
    writeFileSync(notPem, 'hello');
    assert.match(problem({ KAFKA_SSL: notPem }), /KAFKA_SSL=".*key\.txt": .*no PEM certificate in it/);
    assert.match(problem({ KAFKA_SSL: dir }), /KAFKA_SSL=.*EISDIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
