export { createKafka } from './client.ts';
export { ensureTopic } from './topic.ts';
export { EventPublisher, EventTooLargeError, KafkaUnavailableError, RECEIVED_AT_HEADER } from './publisher.ts';
export { readMessageLimit, MessageLimitUnknownError } from './message-limit.ts';
export type { MessageLimit } from './message-limit.ts';
export type { ProducerStats, PublisherOptions } from './publisher.ts';
export { partitionOf } from './partitioner.ts';
export { EDGE_TOKEN_HEADER, edgeTokenBytes, fromEdge } from './trust.ts';
