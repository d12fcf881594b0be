// Producing test events straight to Kafka, as a producer that bypasses the HTTP edge would.
import { Partitioners, type Producer } from 'kafkajs';
import { encodeEvent, partitionKeyOf, validateEvent, type EventInput } from '../../actors/index.ts';
import { testKafka } from './services.ts';

/** A connected producer keyed like keyflow's (murmur2 on the partition key). */
export async function testProducer(): Promise<Producer> {
  const kafka = testKafka('keyflow-test-producer');
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** Validate, encode and produce events in batches of `batchSize`. */
export async function produceEvents(producer: Producer, topic: string, events: readonly EventInput[], batchSize = 2_000): Promise<void> {
  for (let i = 0; i < events.length; i += batchSize) {
    const messages = events.slice(i, i + batchSize).map((input) => {
      const v = validateEvent(input);
      if (!v.ok) throw new Error(`test event ${JSON.stringify(input)} is invalid: ${JSON.stringify(v.errors)}`);
      return { key: partitionKeyOf(v.event), value: encodeEvent(v.event) };
    });
    await producer.send({ topic, acks: -1, messages });
  }
}

/** Read one counter or gauge (summed over its labels) from a Prometheus text answer. */
export function metricValue(text: string, name: string): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m?.[1] === name) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : NaN;
}
