import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaSecurity } from './security.ts';
import { kafkaAccessError } from './access.ts';

test('kafka security - no settings give kafkajs no sasl and no ssl option', () => {
  assert.deepEqual(kafkaSecurity({}), {});
  assert.deepEqual(kafkaSecurity({ kafkaSsl: false }), {});
});

test('kafka security - SASL settings become kafkajs sasl options, TLS its ssl option with the CA file read', () => {
  assert.deepEqual(kafkaSecurity({ kafkaSaslMechanism: 'scram-sha-512', kafkaSaslUsername: 'keyflow', kafkaSaslPassword: 'pw' }), {
    sasl: { mechanism: 'scram-sha-512', username: 'keyflow', password: 'pw' },
  });
  assert.deepEqual(kafkaSecurity({ kafkaSsl: true }), { ssl: true });
  assert.deepEqual(kafkaSecurity({ kafkaSaslMechanism: 'plain', kafkaSaslUsername: 'u', kafkaSaslPassword: 'p', kafkaSsl: { caFile: '/ca.pem', ca: 'PEM' } }), {
    sasl: { mechanism: 'plain', username: 'u', password: 'p' },
    ssl: { ca: ['PEM'] },
  });
});

test('kafka access - authentication and authorization failures, even nested, are recognized; other errors are not', () => {
  const auth = Object.assign(new Error('SASL SCRAM SHA256 authentication failed'), { name: 'KafkaJSSASLAuthenticationError' });
  assert.match(kafkaAccessError(auth, 'connecting')?.message ?? '', /refused keyflow's credentials while connecting .*KAFKA_SASL_PASSWORD/);
  const denied = Object.assign(new Error('Topic creation errors'), { errors: [Object.assign(new Error('Topic authorization failed'), { type: 'TOPIC_AUTHORIZATION_FAILED' })] });
  assert.match(kafkaAccessError(denied, 'creating the topic')?.message ?? '', /denied keyflow TOPIC_AUTHORIZATION_FAILED while creating the topic/);
  const retried = Object.assign(new Error('retries exceeded'), { originalError: Object.assign(new Error('x'), { type: 'GROUP_AUTHORIZATION_FAILED' }) });
  assert.equal(kafkaAccessError(retried, 'joining')?.code, 'KEYFLOW_KAFKA_ACCESS_DENIED');
  assert.equal(kafkaAccessError(Object.assign(new Error('down'), { type: 'LEADER_NOT_AVAILABLE' }), 'x'), undefined);
  assert.equal(kafkaAccessError(new Error('Connection error: ECONNREFUSED'), 'x'), undefined);
});
