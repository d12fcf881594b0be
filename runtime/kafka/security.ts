// The SASL and TLS options of every kafkajs client keyflow opens, from the configuration.
// Rule: one function turns KAFKA_SASL_* and KAFKA_SSL into kafkajs options, so the edge's
// producer, the workers' consumers, the admin clients and the test helpers all authenticate
// the same way; a client built without them would be refused by a broker with ACLs.
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { Config } from '../config/index.ts';

/** The configuration fields that say how to authenticate (all optional: unset = none). */
export type KafkaSecurityConfig = Partial<Pick<Config, 'kafkaSaslMechanism' | 'kafkaSaslUsername' | 'kafkaSaslPassword' | 'kafkaSsl'>>;

/**
 * The `sasl` and `ssl` options of a kafkajs client, only those that are set.
 *
 * @example
 * new Kafka({ clientId: 'keyflow-admin', brokers: [...config.kafkaBrokers], ...kafkaSecurity(config) });
 */
export function kafkaSecurity(config: KafkaSecurityConfig): Pick<KafkaConfig, 'sasl' | 'ssl'> {
  const out: Pick<KafkaConfig, 'sasl' | 'ssl'> = {};
  const { kafkaSaslMechanism: mechanism, kafkaSaslUsername: username, kafkaSaslPassword: password, kafkaSsl: ssl } = config;
  if (mechanism !== undefined && username !== undefined && password !== undefined) {
    // Spelled per mechanism: kafkajs's SASLOptions is a union keyed by it.
    const sasl: SASLOptions =
      mechanism === 'plain' ? { mechanism, username, password } : mechanism === 'scram-sha-256' ? { mechanism, username, password } : { mechanism, username, password };
    out.sasl = sasl;
  }
  if (ssl === true) out.ssl = true;
  else if (ssl !== undefined && ssl !== false) out.ssl = { ca: [ssl.ca] };
  return out;
}
