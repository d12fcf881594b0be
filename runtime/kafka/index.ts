export { createKafka } from './client.ts';
export { ensureTopic } from './topic.ts';
export { EventPublisher, KafkaUnavailableError, RECEIVED_AT_HEADER } from './publisher.ts';
export type { ProducerStats, PublisherOptions } from './publisher.ts';
export { partitionOf } from './partitioner.ts';
export { SIGNATURE_HEADER, MessageTrust, messageTrust } from './trust.ts';
export type { SignedKind } from './trust.ts';
