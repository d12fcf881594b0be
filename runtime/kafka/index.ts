export { createKafka } from './client.ts';
export { ensureTopic } from './topic.ts';
export { EventPublisher, KafkaUnavailableError, RECEIVED_AT_HEADER } from './publisher.ts';
export type { ProducerStats, PublisherOptions } from './publisher.ts';
export { partitionOf } from './partitioner.ts';
export { EDGE_TOKEN_HEADER, edgeTokenBytes, fromEdge } from './trust.ts';
export { kafkaSecurity } from './security.ts';
export type { KafkaSecurityConfig } from './security.ts';
export { KafkaAccessError, kafkaAccessError, throwIfAccessDenied } from './access.ts';
