export { createKafka } from './client.ts';
export { ensureTopic } from './topic.ts';
export { EventPublisher, KafkaUnavailableError, RECEIVED_AT_HEADER } from './publisher.ts';
export type { ProducerStats, PublisherOptions } from './publisher.ts';
export { partitionOf } from './partitioner.ts';
export { EDGE_TOKEN_HEADER, edgeTokenBytes, fromEdge } from './trust.ts';
export { CODEC_TYPES, codecs, registerCodecs } from './codecs.ts';
export type { CodecName } from './codecs.ts';
export { undecodableOf, UNDECODABLE_HEADER } from './undecodable.ts';
