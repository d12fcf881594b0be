// A second, private Kafka broker for tests of Kafka security: a SASL_PLAINTEXT listener that
// takes SCRAM-SHA-256 credentials bootstrapped at format time, the same behind TLS (SASL_SSL,
// with a certificate signed by a throwaway CA of its own), the StandardAuthorizer with no
// access unless an ACL grants it, and a PLAINTEXT listener (inter-broker, and the test's admin)
// whose anonymous principal is the one super user.
// Rule: it never touches the shared broker: its own free ports, its own folder under
// .keyflow/, its own JVM, which stop() ends by its pid and whose folder stop() removes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { Kafka, logLevel, type AclEntry, type SASLOptions } from 'kafkajs';
import {
  formatKafkaStorage,
  kafkaClasspath,
  livePid,
  loadSettings,
  newClusterId,
  propertiesText,
  repoRoot,
  singleNodeProperties,
  spawnKafka,
  terminate,
  waitKafkaReady,
} from '../../compose/local/index.ts';

const host = '127.0.0.1';

export type ScramUser = Readonly<{ name: string; password: string }>;

export type SaslBroker = {
  /** host:port of the SASL_PLAINTEXT (SCRAM-SHA-256) listener. */
  readonly saslBroker: string;
  /** host:port of the SASL_SSL (SCRAM-SHA-256 over TLS) listener. */
  readonly saslSslBroker: string;
  /** The PEM file of the CA that signed the broker's certificate (for 127.0.0.1). */
  readonly caFile: string;
  /** host:port of the PLAINTEXT listener, whose anonymous principal is a super user. */
  readonly plainBroker: string;
  /** A client on the SASL listener as `user`. */
  client(user: ScramUser, clientId: string): Kafka;
  /** An admin on the super user's listener, for ACLs and checks. */
  superKafka(): Kafka;
  /** Grant ACLs (through the super user). */
  grant(acl: readonly AclEntry[]): Promise<void>;
  /** SIGTERM the JVM, wait for it, remove its folder. */
  stop(): Promise<void>;
};

/** A port nothing listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: no port assigned');
  return address.port;
}

/**
 * A throwaway CA (ca.pem) and the broker's key and certificate for 127.0.0.1 signed by it, in
 * one PEM key store (broker-keystore.pem) as Kafka reads it; valid for two days. openssl is
 * there wherever Debian's Java is (ca-certificates depends on it), and takes milliseconds
 * where keytool takes seconds per step.
 */
async function makeCertificates(dir: string): Promise<{ caFile: string; keyStore: string }> {
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=keyflow-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', `/CN=${host}`);
  await writeFile(join(dir, 'san.cnf'), `subjectAltName=IP:${host}\n`);
  await openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.cnf');
  const keyStore = join(dir, 'broker-keystore.pem');
  await writeFile(keyStore, (await Promise.all(['broker.key', 'broker.pem', 'ca.pem'].map((f) => readFile(join(dir, f), 'utf8')))).join(''));
  return { caFile: join(dir, 'ca.pem'), keyStore };
}

/** A random password with no character the --add-scram syntax ([name=…,password=…]) reads. */
export function scramPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * Format and start a private SCRAM broker holding `users`; resolves once it serves requests.
 *
 * @example
 * const broker = await startSaslBroker([{ name: 'keyflow', password: scramPassword() }]);
 * after(() => broker.stop());
 */
export async function startSaslBroker(users: readonly ScramUser[], readyTimeoutMs = 90_000): Promise<SaslBroker> {
  const classpath = await kafkaClasspath(loadSettings());
  const dir = join(repoRoot, '.keyflow', `sasl-broker-${randomBytes(4).toString('hex')}`);
  const data = join(dir, 'data');
  const propertiesFile = join(dir, 'server.properties');
  const logFile = join(dir, 'kafka.log');
  const pidFile = join(dir, 'kafka.pid');
  await mkdir(dir, { recursive: true });
  const [sasl, saslSsl, plain, controller] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const certificates = makeCertificates(dir);
  certificates.catch(() => undefined); // awaited below; a failure must not be unhandled meanwhile
  await writeFile(
    propertiesFile,
    propertiesText(
      {
        ...singleNodeProperties(host, controller, data),
        listeners: `SASL_PLAINTEXT://${host}:${sasl},SASL_SSL://${host}:${saslSsl},PLAINTEXT://${host}:${plain},CONTROLLER://${host}:${controller}`,
        'advertised.listeners': `SASL_PLAINTEXT://${host}:${sasl},SASL_SSL://${host}:${saslSsl},PLAINTEXT://${host}:${plain}`,
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
        'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': join(dir, 'broker-keystore.pem'),
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        // The controller and the inter-broker listener (PLAINTEXT) act as ANONYMOUS.
        'super.users': 'User:ANONYMOUS',
        'allow.everyone.if.no.acl.found': 'false',
      },
      'written by test/support/sasl-broker.ts',
    ),
  );
  let pid: number | undefined;
  const stop = async () => {
    const alive = pid === undefined ? undefined : await livePid(pidFile, propertiesFile);
    if (alive !== undefined) await terminate(alive, 20_000);
    await rm(dir, { recursive: true, force: true });
  };
  let caFile = '';
  try {
    // Two JVM tools at once: the storage format and the certificates do not depend on each other.
    const [, made] = await Promise.all([
      formatKafkaStorage({
        classpath,
        dir,
        propertiesFile,
        clusterId: newClusterId(),
        scram: users.map((u) => `SCRAM-SHA-256=[name=${u.name},password=${u.password}]`),
      }),
      certificates,
    ]);
    caFile = made.caFile;
    pid = await spawnKafka({ classpath, dir, propertiesFile, logFile, pidFile, heap: '384m' });
    await waitKafkaReady(`${host}:${plain}`, pid, logFile, readyTimeoutMs);
  } catch (e) {
    await stop();
    throw e;
  }
  const saslBroker = `${host}:${sasl}`;
  const saslSslBroker = `${host}:${saslSsl}`;
  const plainBroker = `${host}:${plain}`;
  const superKafka = () => new Kafka({ clientId: 'keyflow-test-super', brokers: [plainBroker], logLevel: logLevel.NOTHING });
  return {
    saslBroker,
    saslSslBroker,
    caFile,
    plainBroker,
    superKafka,
    client: (user, clientId) => {
      const sasl: SASLOptions = { mechanism: 'scram-sha-256', username: user.name, password: user.password };
      return new Kafka({ clientId, brokers: [saslBroker], sasl, logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100 } });
    },
    grant: async (acl) => {
      const admin = superKafka().admin();
      await admin.connect();
      try {
        await admin.createAcls({ acl: [...acl] });
      } finally {
        await admin.disconnect();
      }
    },
    stop,
  };
}
