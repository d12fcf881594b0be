// keyflow's Prometheus metrics. Rule: every thread has its own registry with the same
// metric definitions; the main thread answers /metrics with the sum of all of them, so a
// worker's counters survive into the one answer without a per-event message. A value that
// must not be summed across threads carries a label that tells the threads apart (`thread`,
// `worker`). Names follow Prometheus' conventions: base units in the name (`_seconds`,
// `_bytes`), `_total` on counters.
import { getHeapStatistics } from 'node:v8';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Latency buckets, in seconds, shared by the request, publish and flush histograms. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metrics of one thread. */
export type KeyflowMetrics = ReturnType<typeof defineMetrics>;

function defineMetrics(registry: Registry, thread: string) {
  const registers = [registry];
  return {
    httpRequestDuration: new Histogram({ name: 'keyflow_http_request_duration_seconds', help: 'HTTP requests by method, route (the pattern, not the path) and status code', labelNames: ['method', 'route', 'status_code'] as const, buckets: latencyBuckets, registers }),
    kafkaPublishDuration: new Histogram({ name: 'keyflow_kafka_publish_duration_seconds', help: 'Time from handing events to the producer until Kafka acknowledged them (acks = all), by outcome', labelNames: ['outcome'] as const, buckets: latencyBuckets, registers }),
    flushBatchEvents: new Histogram({ name: 'keyflow_flush_batch_events', help: 'Events in one flush transaction', buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000], registers }),
    receiveToStore: new Histogram({ name: 'keyflow_event_receive_to_store_seconds', help: 'Time from the edge receiving an event (or Kafka timestamping it) until its flush transaction committed', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers }),
    pausedPartitions: new Gauge({ name: 'keyflow_paused_partitions', help: 'Partitions a worker holds paused because too much is pending', labelNames: ['worker'] as const, registers }),
    workerState: new Gauge({ name: 'keyflow_worker_state', help: 'Lifecycle of each worker thread: 1 for its current state, 0 for the others', labelNames: ['worker', 'state'] as const, registers }),
    dependencyUp: new Gauge({ name: 'keyflow_dependency_up', help: 'Whether a dependency answered its readiness check at the last scrape (1) or not (0)', labelNames: ['dependency'] as const, registers }),
    ready: new Gauge({ name: 'keyflow_ready', help: 'Whether this process was ready (GET /readyz 200) at the last scrape', registers }),
    threadHeapUsed: new Gauge({
      name: 'keyflow_thread_heap_used_bytes',
      help: 'V8 heap in use, per thread (the main thread and each worker thread have their own heap)',
      labelNames: ['thread'] as const,
      registers,
      collect() {
        this.set({ thread }, getHeapStatistics().used_heap_size);
      },
    }),
    threadHeapLimit: new Gauge({
      name: 'keyflow_thread_heap_limit_bytes',
      help: 'V8 heap size limit, per thread',
      labelNames: ['thread'] as const,
      registers,
      collect() {
        this.set({ thread }, getHeapStatistics().heap_size_limit);
      },
    }),
    eventsAccepted: new Counter({ name: 'keyflow_events_accepted_total', help: 'Events accepted by the edge and acknowledged by Kafka', registers }),
    eventsRejected: new Counter({ name: 'keyflow_events_rejected_total', help: 'Events the edge rejected as invalid', registers }),
    segmentRejected: new Counter({ name: 'keyflow_segment_rejected_total', help: 'Segment messages the edge rejected by index, by reason', labelNames: ['reason'] as const, registers }),
    eventsConsumed: new Counter({ name: 'keyflow_events_consumed_total', help: 'Kafka messages consumed by workers', registers }),
    eventsDeduplicated: new Counter({ name: 'keyflow_events_deduplicated_total', help: 'Duplicate events dropped, by where they were caught', labelNames: ['stage'] as const, registers }),
    eventsFlushed: new Counter({ name: 'keyflow_events_flushed_total', help: 'Events newly stored in PostgreSQL', registers }),
    deadLetters: new Counter({ name: 'keyflow_dead_letters_total', help: 'Messages written to dead_letters, by reason', labelNames: ['reason'] as const, registers }),
    flushDuration: new Histogram({ name: 'keyflow_flush_duration_seconds', help: 'Duration of flush transactions', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    flushFailures: new Counter({ name: 'keyflow_flush_failures_total', help: 'Flush attempts that failed and will be retried', registers }),
    offsetCommitFailures: new Counter({ name: 'keyflow_offset_commit_failures_total', help: 'Offset commits that failed (the events are stored; they will be redelivered and deduplicated)', registers }),
    liveUpdateFailures: new Counter({ name: 'keyflow_live_update_failures_total', help: 'Redis live-counter updates that failed', registers }),
    pendingEvents: new Gauge({ name: 'keyflow_pending_events', help: 'Events waiting for a flush', registers }),
    pendingBytes: new Gauge({ name: 'keyflow_pending_bytes', help: 'Message bytes of the events and dead letters waiting for a flush (what KEYFLOW_MAX_PENDING_BYTES bounds per worker)', registers }),
    liveActors: new Gauge({ name: 'keyflow_live_actors', help: 'Actors currently live', registers }),
    partitionPauses: new Counter({ name: 'keyflow_partition_pauses_total', help: 'Times a worker paused its partitions because too much was pending', registers }),
    partitionResumes: new Counter({ name: 'keyflow_partition_resumes_total', help: 'Times a worker resumed its partitions after flushing', registers }),
    offsetCommitsFenced: new Counter({ name: 'keyflow_offset_commits_fenced_total', help: 'Offset commits skipped because the group rebalanced after the flush began', registers }),
    workerRestarts: new Counter({ name: 'keyflow_worker_restarts_total', help: 'Worker threads replaced by the supervisor', registers }),
    consumerRestarts: new Counter({ name: 'keyflow_consumer_restarts_total', help: 'Worker Kafka consumers restarted after a crash, by who restarted them: kafkajs itself, or keyflow when kafkajs gave up (crash with restart: false)', labelNames: ['by'] as const, registers }),
    batchRetries: new Counter({ name: 'keyflow_batch_retries_total', help: 'Fetched batches whose processing threw and was retried (after 5 attempts the rest is dead-lettered: batch-failed)', registers }),
    partitionStalled: new Gauge({ name: 'keyflow_partition_stalled', help: 'Whether a partition is stalled (1): it has lag and made no progress for KEYFLOW_STALL_MS while neither paused by backpressure nor waiting for PostgreSQL, or it has had no owner that long', labelNames: ['partition'] as const, registers }),
    apiRequests: new Counter({ name: 'keyflow_api_requests_total', help: 'Requests to /v1 and /internal, by API key name (never the secret) and status', labelNames: ['key', 'status'] as const, registers }),
    rateLimitFailOpen: new Counter({ name: 'keyflow_rate_limit_fail_open_total', help: 'Requests let through unlimited because Redis (the shared token buckets) did not answer', registers }),
    eventsDefaultPartitionRows: new Gauge({ name: 'keyflow_events_default_partition_rows', help: 'Rows in events_default, outside every daily partition (late beyond retention or far-future events), as of the last maintenance run', registers }),
  };
}

/**
 * Create a registry with keyflow's metric definitions. `defaults` adds the standard process
 * and Node.js metrics under their usual names (`process_resident_memory_bytes`,
 * `nodejs_eventloop_lag_seconds`…): once per process, on the main thread, since they
 * describe the whole process. `thread` labels this thread's heap gauges.
 *
 * @example
 * const { registry, metrics } = createMetrics({ defaults: true, thread: 'main' });
 * metrics.eventsAccepted.inc(3);
 */
export function createMetrics(options: { defaults?: boolean; thread?: string } = {}): { registry: Registry; metrics: KeyflowMetrics } {
  const registry = new Registry();
  if (options.defaults === true) collectDefaultMetrics({ register: registry });
  return { registry, metrics: defineMetrics(registry, options.thread ?? 'main') };
}

/** A thread's metrics as plain data, safe to post across threads. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** Sum the main thread's registry and the workers' snapshots into one Prometheus answer. */
export async function renderAggregated(main: Registry, workers: readonly MetricsSnapshot[]): Promise<string> {
  const all = [await main.getMetricsAsJSON(), ...workers] as Parameters<typeof AggregatorRegistry.aggregate>[0];
  return AggregatorRegistry.aggregate(all).metrics();
}

export { Registry };
export const metricsContentType: string = Registry.PROMETHEUS_CONTENT_TYPE;
