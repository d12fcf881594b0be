// The live view's, the stream's, the lag's and the Kafka clients' metrics. Rule: the same
// definitions exist in every thread's registry (so /metrics sums them across threads); a
// gauge measured at scrape time gets its value from a provider only in the thread that has
// one — consumer lag on the main thread, event-time lag in each worker thread.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type LiveMetricProviders = {
  /** Consumer-group lag per partition of the events topic, in messages (main thread). */
  readonly consumerLag?: () => Promise<{ readonly topic: string; readonly partitions: readonly { readonly partition: number; readonly lag: number }[] }>;
  /** Newest occurredAt (epoch ms) stored per partition by this thread (worker threads). */
  readonly newestStored?: () => ReadonlyMap<number, number>;
};

/** The live metrics of one thread. */
export type LiveMetrics = ReturnType<typeof defineLiveMetrics>;

/**
 * Register the live metrics on `registry`.
 *
 * @example
 * const live = defineLiveMetrics(registry, { consumerLag: async () => ({ topic: 'keyflow.events', partitions: [{ partition: 0, lag: 3 }] }) });
 * live.streamEventsDropped.inc(2);
 */
export function defineLiveMetrics(registry: Registry, providers: LiveMetricProviders = {}) {
  const registers = [registry];
  const { consumerLag, newestStored } = providers;
  return {
    consumerLag: new Gauge({
      // Read from Kafka's admin API at scrape time (the same reading as GET /v1/admin/lag, at
      // most a second old), so every process — edge included — reports it fresh.
      name: 'keyflow_consumer_lag',
      help: 'Messages of each partition of the events topic not yet committed by the consumer group (high watermark minus committed offset; everything retained when never committed)',
      labelNames: ['topic', 'partition'] as const,
      registers,
      ...(consumerLag === undefined
        ? {}
        : {
            async collect() {
              const lags = await consumerLag().catch(() => undefined);
              if (lags === undefined) return; // Kafka unreachable: keep the last values
              this.reset();
              for (const l of lags.partitions) this.set({ topic: lags.topic, partition: String(l.partition) }, l.lag);
            },
          }),
    }),
    eventTimeLag: new Gauge({
      name: 'keyflow_event_time_lag_seconds',
      help: 'Now minus the occurredAt of the newest event stored from each partition (by the worker that owns it)',
      labelNames: ['partition'] as const,
      // Two threads can briefly both know a partition after a rebalance; the freshest is right.
      aggregator: 'min',
      registers,
      ...(newestStored === undefined
        ? {}
        : {
            collect() {
              this.reset();
              const now = Date.now();
              for (const [p, ms] of newestStored()) this.set({ partition: String(p) }, (now - ms) / 1000);
            },
          }),
    }),
    producerMessages: new Counter({ name: 'keyflow_producer_messages_total', help: 'Messages the edge produced to Kafka and Kafka acknowledged', registers }),
    producerRequests: new Counter({ name: 'keyflow_producer_requests_total', help: 'Produce requests sent to Kafka (each may carry many publishes)', registers }),
    producerErrors: new Counter({ name: 'keyflow_producer_errors_total', help: 'Produce requests Kafka did not acknowledge', registers }),
    producerDuration: new Histogram({ name: 'keyflow_producer_request_duration_seconds', help: 'Time from sending a produce request to its acknowledgement', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers }),
    consumerErrors: new Counter({ name: 'keyflow_consumer_errors_total', help: 'Consumer crashes reported by kafkajs (the consumer restarts itself)', registers }),
    streamClients: new Gauge({ name: 'keyflow_stream_clients', help: 'Clients connected to GET /v1/stream', registers }),
    streamEventsSent: new Counter({ name: 'keyflow_stream_events_sent_total', help: 'Stored events written to stream clients', registers }),
    streamEventsDropped: new Counter({ name: 'keyflow_stream_events_dropped_total', help: 'Stored events not sent to a stream client because its queue was full (a slow client)', registers }),
    streamRejected: new Counter({ name: 'keyflow_stream_rejected_total', help: 'Stream connections refused with 503 because KEYFLOW_MAX_STREAM_CLIENTS were connected', registers }),
    reconcileRounds: new Counter({ name: 'keyflow_live_reconcile_rounds_total', help: 'Rounds of the live-view reconciler that ran in this process', registers }),
    minutesCorrected: new Counter({ name: 'keyflow_live_minutes_corrected_total', help: 'Closed minutes whose live counts differed from the store and were replaced', registers }),
    activeRebuilds: new Counter({ name: 'keyflow_live_active_rebuilds_total', help: 'Rebuilds of the active-users set from the store, by reason', labelNames: ['reason'] as const, registers }),
  };
}
