// How large one record batch may be on the events topic. Rule: the edge sizes its produce
// requests from what the broker will take, read at start-up — the topic's
// `max.message.bytes`, else the broker's `message.max.bytes` — never from a constant, so a
// topic configured smaller or larger is honoured (DESIGN.md, "Bytes, not counts").
import type { Admin, ConfigResourceTypes, Kafka } from 'kafkajs';

// kafkajs 2.2.4 builds its exports in a way Node's CommonJS detection misses for this enum:
// the values of its protocol (ConfigResourceTypes.TOPIC and .BROKER).
const TOPIC = 2 as ConfigResourceTypes;
const BROKER = 4 as ConfigResourceTypes;

/** The largest record batch the broker takes on the topic, and where that figure came from. */
export type MessageLimit = {
  readonly maxMessageBytes: number;
  /** e.g. `max.message.bytes of topic keyflow.events`. */
  readonly source: string;
};

/** Neither the topic's nor the broker's size limit could be read. */
export class MessageLimitUnknownError extends Error {
  override readonly name = 'MessageLimitUnknownError';
  readonly code = 'KEYFLOW_MESSAGE_LIMIT_UNKNOWN';
}

/**
 * Read the topic's `max.message.bytes` (its own setting or the broker default it inherits);
 * when the topic's configuration cannot be described (e.g. no DescribeConfigs right on it),
 * the broker's `message.max.bytes`.
 *
 * @example
 * const { maxMessageBytes, source } = await readMessageLimit(kafka, 'keyflow.events');
 * // 1048588, 'max.message.bytes of topic keyflow.events'
 */
export async function readMessageLimit(kafka: Kafka, topic: string): Promise<MessageLimit> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const causes: unknown[] = [];
    try {
      const bytes = await describeOne(admin, TOPIC, topic, 'max.message.bytes');
      return { maxMessageBytes: bytes, source: `max.message.bytes of topic ${topic}` };
    } catch (e) {
      causes.push(e);
    }
    try {
      const { brokers, controller } = await admin.describeCluster();
      const broker = String(controller ?? brokers[0]?.nodeId ?? 0);
      const bytes = await describeOne(admin, BROKER, broker, 'message.max.bytes');
      return { maxMessageBytes: bytes, source: `message.max.bytes of broker ${broker}` };
    } catch (e) {
      causes.push(e);
    }
    throw new MessageLimitUnknownError(`could read neither max.message.bytes of topic ${topic} nor the broker's message.max.bytes`, { cause: new AggregateError(causes) });
  } finally {
    await admin.disconnect();
  }
}

async function describeOne(admin: Admin, type: ConfigResourceTypes, name: string, configName: string): Promise<number> {
  const answer = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type, name, configNames: [configName] }] });
  const resource = answer.resources[0];
  if (resource !== undefined && resource.errorCode !== 0) throw new Error(`${configName} of ${name}: error ${resource.errorCode} ${resource.errorMessage}`);
  const value = Number(resource?.configEntries.find((e) => e.configName === configName)?.configValue);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${configName} of ${name}: no positive integer in the answer`);
  return value;
}
