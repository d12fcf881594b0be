// Kafka security end to end, against a private broker of this file (SCRAM-SHA-256 listener,
// StandardAuthorizer, nothing allowed unless an ACL says so): keyflow works under exactly the
// ACLs the README lists for its principal, a wrong password stops it at start-up without
// showing the password, a principal without ACLs is refused on the topic, and with KAFKA_SSL
// naming a CA file keyflow's clients speak SCRAM over TLS to a broker that CA signed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type AclEntry } from 'kafkajs';
import { loadConfig } from '../runtime/config/index.ts';
import { createKafka, kafkaAccessError, kafkaSecurity } from '../runtime/kafka/index.ts';
import { createLogger } from '../runtime/log/index.ts';
import { makeEvents } from './support/events.ts';
import { getJson, postJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { scramPassword, startSaslBroker, type SaslBroker, type ScramUser } from './support/sasl-broker.ts';

// kafkajs spreads its exports, so Node sees these enums only on the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ConfigResourceTypes, ResourcePatternTypes } = kafkajs;
type AclResourceType = (typeof AclResourceTypes)[keyof typeof AclResourceTypes];
type AclOperationType = (typeof AclOperationTypes)[keyof typeof AclOperationTypes];

const keyflowUser: ScramUser = { name: 'keyflow', password: scramPassword() };
const intruder: ScramUser = { name: 'intruder', password: scramPassword() };

/**
 * The ACLs of README.md's "Kafka security", for this test's topic and group: keyflow's
 * principal may create, read, write and describe (configs included) its topic, and read
 * (join, commit, describe) its consumer group. Nothing on the cluster: Kafka ≥ 2.8 lets a
 * principal with Write on a topic open an idempotent producer.
 */
function keyflowAcls(topic: string, group: string): AclEntry[] {
  const allow = (resourceType: AclResourceType, resourceName: string, operation: AclOperationType): AclEntry => ({
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.LITERAL,
    principal: `User:${keyflowUser.name}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  const { CREATE, READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS } = AclOperationTypes;
  return [
    ...[CREATE, READ, WRITE, DESCRIBE, DESCRIBE_CONFIGS].map((op) => allow(AclResourceTypes.TOPIC, topic, op)),
    allow(AclResourceTypes.GROUP, group, READ),
  ];
}

/** Poll `read` until `ok` holds; throw with the last value seen past the deadline. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms; last saw ${JSON.stringify(last)}`);
    await sleep(200);
  }
}

let broker: SaslBroker;
let iso: Isolated;
let kf: KeyflowProcess | undefined;

before(async () => {
  broker = await startSaslBroker([keyflowUser, intruder]);
  iso = await isolate({
    KAFKA_BROKERS: broker.saslBroker,
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: keyflowUser.name,
    KAFKA_SASL_PASSWORD: keyflowUser.password,
    KEYFLOW_PARTITIONS: '2',
    KEYFLOW_WORKERS: '1',
  });
  await broker.grant(keyflowAcls(iso.topic, iso.env['KEYFLOW_GROUP_ID'] ?? ''));
});

after(async () => {
  await kf?.stop();
  await iso?.cleanup();
  await broker?.stop();
});

test('kafka security - keyflow authenticated by SCRAM, under only the README ACLs, ingests over HTTP and stores the events', async () => {
  kf = await startKeyflow(iso.env);
  const events = makeEvents(20, { prefix: 'sasl', seed: 3 });
  const posted = await postJson(`${kf.url}/v1/events`, { events });
  assert.equal(posted.status, 202, JSON.stringify(posted.body));
  for (const e of events) await until(`event ${e.id} stored`, async () => (await getJson(`${kf!.url}/v1/events/${e.id}`)).status, (s) => s === 200);
  // The lag reader (offsets, group description) and readiness work under the same ACLs.
  type Lag = { totalLag?: number };
  await until('the group has consumed everything', async () => getJson<Lag>(`${kf!.url}/v1/admin/lag`), (r) => r.status === 200 && r.body.totalLag === 0);
  assert.equal((await getJson(`${kf.url}/readyz`)).status, 200);
  // The message-size lookup at start reads the topic's configs: DescribeConfigs is granted.
  const admin = broker.client(keyflowUser, 'keyflow-test-describe').admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: iso.topic, configNames: ['max.message.bytes'] }] });
    assert.match(resources[0]?.configEntries[0]?.configValue ?? '', /^\d+$/);
  } finally {
    await admin.disconnect();
  }
  const { code } = await kf.stop();
  assert.equal(code, 0);
  assert.ok(!kf.logs().includes(keyflowUser.password), 'the password is in the log');
  kf = undefined;
});

test('kafka security - a wrong password stops start-up at once, naming the variables and never the password', async () => {
  const wrong = scramPassword();
  const e = await startKeyflow({ ...iso.env, KAFKA_SASL_PASSWORD: wrong }).then(
    async (p) => {
      await p.stop();
      return new Error('keyflow started with a wrong Kafka password');
    },
    (err: unknown) => err,
  );
  const message = e instanceof Error ? e.message : String(e);
  // Exited, not retried until startKeyflow's deadline: an authentication failure never heals.
  assert.match(message, /exited \(code 2,/, message);
  assert.match(message, /Kafka refused keyflow's credentials .*KAFKA_SASL_PASSWORD/, message);
  assert.ok(!message.includes(wrong), 'the wrong password is shown');
  assert.ok(!message.includes(keyflowUser.password), 'the right password is shown');
});

test('kafka security - another principal, without ACLs, is refused on the topic', async () => {
  const producer = broker.client(intruder, 'keyflow-test-intruder').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const e = await producer.send({ topic: iso.topic, acks: -1, messages: [{ key: 'victim', value: '{}' }] }).then(
      () => new Error('the intruder produced to the topic'),
      (err: unknown) => err,
    );
    const denied = kafkaAccessError(e, 'producing');
    assert.ok(denied !== undefined, `not an authorization error: ${String(e)}`);
    assert.match(denied.message, /TOPIC_AUTHORIZATION_FAILED/);
  } finally {
    await producer.disconnect();
  }
});

test('kafka security - with KAFKA_SSL naming a CA file, keyflow\'s client speaks SCRAM over TLS; without that CA the broker is not trusted', async () => {
  const env = { KAFKA_BROKERS: broker.saslSslBroker, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: keyflowUser.name, KAFKA_SASL_PASSWORD: keyflowUser.password };
  const admin = createKafka(loadConfig({ ...env, KAFKA_SSL: broker.caFile }), 'keyflow-test-tls', createLogger('silent')).admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => `${b.host}:${b.port}`), [broker.saslSslBroker]);
  } finally {
    await admin.disconnect();
  }
  // The system's CAs do not know the test's CA: the same client with KAFKA_SSL=true is refused.
  const untrusted = new kafkajs.Kafka({ clientId: 'keyflow-test-tls-untrusted', brokers: [broker.saslSslBroker], ...kafkaSecurity(loadConfig({ ...env, KAFKA_SSL: 'true' })), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 0 } }).admin();
  const e = await untrusted.connect().then(
    async () => {
      await untrusted.disconnect();
      return new Error('connected without the CA');
    },
    (err: unknown) => err,
  );
  assert.match(String(e instanceof Error ? e.message : e), /self[- ]signed certificate/);
});
