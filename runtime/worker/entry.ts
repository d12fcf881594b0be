// The worker thread's entry: builds one PartitionWorker with its own connections, answers
// the supervisor's asks over comlink, and reports lifecycle on parentPort. It refuses to run
// on the main thread.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';
import { Redis } from 'ioredis';
import { connectDb } from '../../db/index.ts';
import { createMetrics, defineLiveMetrics, startTracing } from '../../otel/index.ts';
import { createKafka } from '../kafka/index.ts';
import { createLogger, errorFields } from '../log/index.ts';
import { serializeError, type WorkerApi, type WorkerEvent, type WorkerInit } from '../protocol.ts';
import { PartitionWorker } from './partition-worker.ts';
import { recordAssignment } from './assignment.ts';
import { recordStallExcuse, STALL_EXCUSE_REFRESH_MS } from './stall-excuse.ts';

/** A `consumer-crash` fault crashes the consumer this many times in a row (by default), as a codec kafkajs lacks would. */
const CONSUMER_CRASHES_INJECTED = 3;

if (isMainThread || parentPort === null) throw new Error('runtime/worker/entry.ts runs only inside a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const { config, workerId } = init;
const post = (m: WorkerEvent) => port.postMessage(m);
const log = createLogger(config.logLevel, { component: 'worker', workerId });

const tracing = await startTracing('keyflow');
const { metrics, registry } = createMetrics({ thread: `worker-${workerId}` });
/** Newest occurredAt stored per partition this worker owns, for the event-time lag gauge. */
const newestStored = new Map<number, number>();
const liveMetrics = defineLiveMetrics(registry, { newestStored: () => newestStored });
const sql = connectDb(config.databaseUrl, { max: 2 });
const redis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
redis.on('error', () => undefined); // reported through failed updates, not as unhandled errors
redis.connect().catch((e: unknown) => log.warn('redis not reachable; live counters wait for it', errorFields(e)));
const kafka = createKafka(config, `keyflow-worker-${process.pid}-${workerId}`, log);
const worker = new PartitionWorker({
  workerId,
  config,
  kafka,
  sql,
  redis,
  log,
  metrics,
  tracingEnabled: tracing.enabled,
  partitionCount: init.partitionCount,
  onAssigned: (partitions) => {
    for (const p of newestStored.keys()) if (!partitions.includes(p)) newestStored.delete(p);
    post({ type: 'assigned', workerId, partitions });
    // Scaled out, the edge finds a key's owner here; a lost write only costs a 404 until the next rebalance.
    recordAssignment(redis, config, init.advertiseUrl, workerId, partitions).catch((e: unknown) => log.warn('could not record the partition assignment in Redis', errorFields(e)));
  },
  onStored: (newest) => {
    for (const [p, ms] of newest) if (ms > (newestStored.get(p) ?? -Infinity)) newestStored.set(p, ms);
  },
  onConsumerError: () => liveMetrics.consumerErrors.inc(),
  onConsumerRestart: (by) => post({ type: 'consumer-restarted', workerId, by }),
});

let closed: Promise<void> | undefined;
const api: WorkerApi = {
  status: () => worker.status(),
  metrics: () => registry.getMetricsAsJSON() as ReturnType<WorkerApi['metrics']>,
  actor: (key) => worker.actor(key),
  fault: (kind, count = CONSUMER_CRASHES_INJECTED) => {
    if (!config.faultsEnabled) throw new Error('fault injection is off (KEYFLOW_FAULTS=1 turns it on)');
    log.warn('injecting a fault', { kind });
    if (kind === 'consumer-crash') return worker.injectConsumerCrashes(count);
    // Each runs after this ask has answered, so the caller sees the effect, not an error.
    setTimeout(() => {
      if (kind === 'exit') process.exit(1);
      if (kind === 'throw') throw new Error('injected fault: uncaught exception');
      for (;;); // 'hang': a busy loop that never yields
    }, 10);
  },
  drain: () => worker.drain(Math.max(1_000, config.shutdownTimeoutMs - 1_500)),
  stop: () =>
    (closed ??= (async () => {
      try {
        await worker.stop();
      } finally {
        redis.disconnect();
        await sql.end({ timeout: 2 });
        await tracing.shutdown();
      }
    })()),
};
// Heartbeats go on parentPort from the thread's own event loop: a thread stuck in a busy
// loop stops sending them, and the supervisor replaces it.
const heartbeat = setInterval(() => post({ type: 'heartbeat', workerId, at: Date.now() }), Math.max(100, Math.floor(config.heartbeatTimeoutMs / 5)));
heartbeat.unref();

// Paused or waiting for PostgreSQL is not a stall: say so to every process's stall check.
const excuses = setInterval(() => {
  const s = worker.status();
  if (s.stallExcuse !== undefined) recordStallExcuse(redis, config, s.partitions, s.stallExcuse).catch(() => undefined);
}, STALL_EXCUSE_REFRESH_MS);
excuses.unref();

expose(api, nodeEndpoint(init.askPort as unknown as NodeEndpoint));

try {
  await worker.start();
  post({ type: 'ready', workerId });
} catch (e) {
  log.error('worker failed to start', errorFields(e));
  post({ type: 'fatal', workerId, error: serializeError(e) });
}
