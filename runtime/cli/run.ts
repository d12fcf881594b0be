// The composition root: wires config, Postgres, Redis, Kafka, the supervisor and the HTTP
// edge together for one command, and owns the process lifecycle.
//
// Rule: on SIGTERM or SIGINT the process stops accepting requests, drains its workers
// (flush, commit), closes its connections and exits 0 — or exits 1 if that takes longer
// than KEYFLOW_SHUTDOWN_TIMEOUT_MS.
import { COMMAND_HEADER, ERASE_USER, encodeEraseUser } from '../../actors/index.ts';
import { Hono } from 'hono';
import { SpanKind } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { abortable, connectDb, funnel, timeseries, getErasure, getEvent, getUserProfile, listDeadLetters, listEvents, migrate, recordErasure, reportDemographics, reportEvents, reportRevenue, runMaintenance, type MaintenanceResult, type Sql } from '../../db/index.ts';
import { answerErrors, createApp, deriveInternalToken, serveApp, type EdgeDeps, type ServedApp } from '../../http/index.ts';
import { traceRequests } from '../../http/middleware/trace.ts';
import { createMetrics, defineLiveMetrics, inSpan, metricsContentType, postgresAttributes, renderAggregated, withDbSpans, type KeyflowMetrics, type Tracing } from '../../otel/index.ts';
import { ConfigError, loadConfig, mainHeapCheck, type Config } from '../config/index.ts';
import { hostname } from 'node:os';
import { createActorDirectory, createDecodePool, createRateLimiter, createReadiness, type DecodePool } from '../edge/index.ts';
import { createKafka, ensureTopic, EventPublisher, messageTrust, throwIfAccessDenied } from '../kafka/index.ts';
import { FeedSubscriber, LagReader, LiveReconciler, readSummary, StallMonitor } from '../live/index.ts';
import { createLogger, errorFields, type Logger } from '../log/index.ts';
import { Supervisor } from '../supervisor/index.ts';
import { readStallExcuses } from '../worker/index.ts';
import type { StallExcuse } from '../protocol.ts';
import type { LifecycleState } from '../protocol.ts';

type Command = 'all' | 'edge' | 'worker' | 'migrate';

const HOURLY = 60 * 60 * 1000;

/** Retry `fn` until it succeeds (dependencies may come up after keyflow does), unless `fatal` throws for its error. */
async function untilUp<T>(what: string, log: Logger, fn: () => Promise<T>, deadlineMs = 120_000, fatal?: (e: unknown) => void): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      fatal?.(e);
      if (Date.now() > until) throw e;
      if (attempt === 1 || attempt % 10 === 0) log.warn(`waiting for ${what}`, errorFields(e));
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * attempt)));
    }
  }
}

async function prepareDatabase(sql: Sql, config: Config, log: Logger, onMaintained?: (r: MaintenanceResult) => void): Promise<void> {
  const { applied } = await untilUp('postgres', log, () => migrate(sql));
  if (applied.length > 0) log.info('migrations applied', { applied });
  await maintain(sql, config, log, onMaintained);
}

/** One run of db/'s maintenance job: partitions ahead, late events moved, days' activity compacted, retention. */
async function maintain(sql: Sql, config: Config, log: Logger, onMaintained?: (r: MaintenanceResult) => void): Promise<void> {
  const r = await runMaintenance(sql, { aheadDays: config.partitionsAheadDays, retentionDays: config.retentionDays, rollupRetentionDays: config.rollupRetentionDays });
  onMaintained?.(r);
  const { created, movedRows, dropped, expiredDefaultRows, expiredRollupRows, compactedDays, defaultRows } = r;
  if (created.length + movedRows + dropped.length + expiredDefaultRows + expiredRollupRows + compactedDays.length > 0) {
    log.info('maintenance', { created, movedRows, dropped, expiredDefaultRows, expiredRollupRows, compactedDays, defaultRows });
  }
  if (r.deferred.length > 0) log.warn('maintenance left steps to its next run', { deferred: r.deferred });
}

/** Run one keyflow command until a signal ends it. */
export async function run(command: Command, tracing: Tracing): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`keyflow: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel, { component: command });
  if (config.auth === 'none') {
    // Opened on purpose; said at every start so it is never forgotten.
    log.warn('KEYFLOW_AUTH=none: no API keys, every route (erasure included) is open to every client that reaches this address', { host: config.host, port: config.port });
  }
  // Migrations, maintenance, the live reconciler and erasures; readiness and the edge's reads
  // have pools of their own (below), so no report can take the connections these need.
  const sql = connectDb(config.databaseUrl, { max: 4 });
  if (config.edgeToken === undefined && command !== 'migrate') {
    // Not a stop: reads and ingestion work without it; what needs it says so (docs/signed-messages.md).
    log.warn('KEYFLOW_EDGE_TOKEN is unset: erasures are refused (DELETE /v1/users answers 409), workers run no command and validate every event in full; set the same secret (16+ characters) on every keyflow process of this deployment');
  }

  if (command === 'migrate') {
    await prepareDatabase(sql, config, log);
    await sql.end({ timeout: 5 });
    log.info('database ready');
    return;
  }

  const { registry, metrics } = createMetrics({ defaults: true, thread: 'main' });
  // Both outcomes exist from the start, so a failure-rate panel has a series before the first failure.
  for (const outcome of ['ok', 'error'] as const) metrics.kafkaPublishDuration.zero({ outcome });
  const kafka = createKafka(config, `keyflow-${command}-${process.pid}`, log);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // readiness reports it; ioredis keeps reconnecting
  redis.connect().catch((e: unknown) => log.warn('redis not reachable yet', errorFields(e)));

  const lagReader = new LagReader(kafka, redis, config);
  const liveMetrics = defineLiveMetrics(registry, { consumerLag: async () => lagReader.read() });
  // The reconciler WATCHes keys, which is per connection: it gets a connection of its own.
  const reconcilerRedis = redis.duplicate();
  reconcilerRedis.on('error', () => undefined);
  const reconciler = new LiveReconciler({
    sql,
    redis: reconcilerRedis,
    prefix: config.redisPrefix,
    intervalMs: config.liveReconcileMs,
    maxFutureMs: config.maxFutureMs,
    log: log.child({ component: 'live-reconciler' }),
    onRound: (r) => {
      liveMetrics.reconcileRounds.inc();
      if (r.minutesCorrected > 0) liveMetrics.minutesCorrected.inc(r.minutesCorrected);
      if (r.rebuilt !== undefined) liveMetrics.activeRebuilds.inc({ reason: r.rebuilt });
    },
  });
  const feed = new FeedSubscriber(redis, config.redisPrefix);
  const streamsClosing = new AbortController();

  const onMaintained = (r: MaintenanceResult): void => metrics.eventsDefaultPartitionRows.set(r.defaultRows);
  await prepareDatabase(sql, config, log, onMaintained);
  const partitionCount = await untilUp('kafka', log, () => ensureTopic(kafka, config.topic, config.partitions, config.replicationFactor, log), undefined, (e) =>
    throwIfAccessDenied(e, `creating or describing the topic ${config.topic}`, log),
  );
  const maintenance = setInterval(() => {
    maintain(sql, config, log, onMaintained).catch((e: unknown) => log.warn('maintenance failed', errorFields(e)));
  }, HOURLY);
  maintenance.unref();

  const sup =
    command === 'all' || command === 'worker'
      ? new Supervisor({
          config,
          log: log.child({ component: 'supervisor' }),
          metrics,
          onFatal: (e) => {
            log.error('supervisor gave up', errorFields(e));
            void shutdown(e.message, 1);
          },
        })
      : undefined;
  const stalls = new StallMonitor({
    stallMs: config.stallMs,
    lag: () => lagReader.read(),
    // Workers of other processes say so in Redis; this process's own workers answer directly.
    excuses: async () => {
      const out = new Map<number, StallExcuse>(await readStallExcuses(redis, config, partitionCount).catch(() => []));
      for (const s of sup ? await sup.statuses() : []) if (s.stallExcuse !== undefined) for (const p of s.partitions) out.set(p, s.stallExcuse);
      return out;
    },
    onObserved: (partitions, stalled) => {
      for (const p of partitions) metrics.partitionStalled.set({ partition: String(p) }, stalled.some((s) => s.partition === p) ? 1 : 0);
    },
  });
  stalls.start();
  // Readiness answers from its own connection even while every read connection is busy.
  const readinessSql = connectDb(config.databaseUrl, { max: 1, statementTimeoutMs: 2_000, applicationName: 'keyflow-readiness' });
  // The edge's reads: bounded in time (KEYFLOW_QUERY_TIMEOUT_MS) and in connections, and sent
  // to DATABASE_READ_URL (a replica) when set; every write stays on DATABASE_URL.
  const readSql = connectDb(config.databaseReadUrl ?? config.databaseUrl, { max: config.readPoolSize, statementTimeoutMs: config.queryTimeoutMs, workMemMb: config.readWorkMemMb, noMemoize: true, applicationName: 'keyflow-reads' });
  const readiness = createReadiness({ sql: readinessSql, redis, kafka, partitions: () => stalls.check(), ...(sup ? { workers: () => sup.healthy() } : {}) });
  // Filled in as start-up proceeds; shutdown closes whatever got that far.
  const held: { server?: ServedApp; publisher?: EventPublisher; decoder?: DecodePool } = {};
  let advertiseUrl = '';
  let stopping: Promise<void> | undefined;

  const shutdown = (reason: string, code: number): Promise<void> =>
    (stopping ??= (async () => {
      log.info('shutting down', { reason });
      const hard = setTimeout(() => {
        log.error('shutdown took too long; exiting', { timeoutMs: config.shutdownTimeoutMs });
        process.exit(1);
      }, config.shutdownTimeoutMs + 500);
      hard.unref();
      try {
        streamsClosing.abort();
        await held.server?.close();
        await reconciler.stop();
        stalls.stop();
        await lagReader.close();
        await sup?.drain();
        await held.publisher?.close();
        await held.decoder?.close();
        await readiness.close();
        redis.disconnect();
        reconcilerRedis.disconnect();
        await readSql.end({ timeout: 2 });
        await readinessSql.end({ timeout: 2 });
        await sql.end({ timeout: 2 });
        await tracing.shutdown();
      } catch (e) {
        log.error('shutdown failed', errorFields(e));
        code = 1;
      } finally {
        clearTimeout(hard);
      }
      log.info('stopped', { code });
      process.exit(code);
    })());
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));

  if (command === 'all' || command === 'edge') {
    held.publisher = new EventPublisher(kafka, {
      topic: config.topic,
      timeoutMs: config.publishTimeoutMs,
      partitionCount,
      trust: messageTrust(config),
      onPublished: (seconds, outcome) => metrics.kafkaPublishDuration.observe({ outcome }, seconds),
      stats: {
        onAcknowledged: (n, seconds) => {
          liveMetrics.producerRequests.inc();
          liveMetrics.producerMessages.inc(n);
          liveMetrics.producerDuration.observe(seconds);
        },
        onFailed: () => {
          liveMetrics.producerRequests.inc();
          liveMetrics.producerErrors.inc();
        },
      },
    });
    const publisher = held.publisher;
    await untilUp('kafka producer', log, () => publisher.connect(), undefined, (e) => throwIfAccessDenied(e, 'connecting the producer', log));
    // postgres.js learns the array types on a pool's first connection; a read sent on another
    // connection before that went out with an array parameter as text (22P02, "malformed array
    // literal": the first reports after a start answered 400). One query first, then serve.
    await untilUp('postgres reads', log, () => readSql`select 1`);
    log.info('kafka message size limit read', { maxMessageBytes: publisher.messageLimit?.maxMessageBytes, from: publisher.messageLimit?.source, maxEventBytes: publisher.maxEventBytes });
  }
  const pub = held.publisher;
  if (pub !== undefined && config.ingestPoolThreads > 0) {
    held.decoder = createDecodePool(config.ingestPoolThreads, { maxBatchEvents: 1000, partitionKey: config.partitionKey });
  }
  const internalToken = config.internalToken ?? deriveInternalToken(config.apiKeys);
  const perSec = config.rateLimitPerSec;
  const rateLimit =
    perSec === undefined
      ? undefined
      : createRateLimiter({
          redis,
          prefix: config.redisPrefix,
          perSec,
          burst: config.rateLimitBurst ?? Math.max(1, Math.ceil(perSec)),
          onFailOpen: () => metrics.rateLimitFailOpen.inc(),
        });
  const pgAttributes = postgresAttributes(config.databaseUrl);
  // KEYFLOW_FAULTS=1 only: how many of the next publishes fail as if Kafka did not acknowledge.
  const publishFaults = { remaining: 0 };
  const deps: EdgeDeps = {
    ingest: {
      publish: (events, signal) => {
        if (pub === undefined) throw new Error('this process does not ingest (keyflow worker)');
        if (publishFaults.remaining > 0) {
          publishFaults.remaining--;
          return Promise.reject(new Error('publish failure injected by POST /v1/admin/faults/publish (KEYFLOW_FAULTS=1)'));
        }
        return pub.publish(events, signal);
      },
      eventSizeLimit: () => {
        const limit = pub?.messageLimit;
        const maxEventBytes = pub?.maxEventBytes;
        return limit === undefined || maxEventBytes === undefined ? undefined : { maxEventBytes, maxMessageBytes: limit.maxMessageBytes, source: limit.source };
      },
    },
    queries: {
      getEvent: (id, signal) => abortable(readSql, signal, (s) => getEvent(s, id)),
      reportEvents: (q, signal) => abortable(readSql, signal, (s) => reportEvents(s, q)),
      reportRevenue: (q, signal) => abortable(readSql, signal, (s) => reportRevenue(s, q)),
      reportDemographics: (q, signal) => abortable(readSql, signal, (s) => reportDemographics(s, q)),
      listDeadLetters: (q, signal) => abortable(readSql, signal, (s) => listDeadLetters(s, q)),
      listEvents: (q, signal) => abortable(readSql, signal, (s) => listEvents(s, q)),
      getUserProfile: (userId, signal) => abortable(readSql, signal, (s) => getUserProfile(s, userId)),
      timeseries: (q, signal) => abortable(readSql, signal, (s) => timeseries(s, q)),
      funnel: (q, signal) => abortable(readSql, signal, (s) => funnel(s, q)),
    },
    health: readiness,
    metrics: {
      contentType: metricsContentType,
      render: async () => {
        await recordHealth(metrics, readiness, sup);
        return renderAggregated(registry, sup ? await sup.metrics() : []);
      },
    },
    ...(held.decoder ? { decoder: held.decoder } : {}),
    actors: createActorDirectory({ config, redis, partitionCount, internalToken, selfUrl: () => advertiseUrl, ...(sup ? { supervisor: sup } : {}) }),
    ...(rateLimit ? { rateLimit } : {}),
    live: {
      summary: () => readSummary(redis, config.redisPrefix, Date.now()),
      subscribe: (listener) => feed.subscribe(listener),
      lag: () => lagReader.read(),
    },
    stream: {
      maxClients: config.maxStreamClients,
      maxPerKey: config.streamsPerKey,
      maxQueuedBytes: config.streamQueueBytes,
      signal: streamsClosing.signal,
      onClients: (n) => liveMetrics.streamClients.set(n),
      onDropped: (n) => liveMetrics.streamEventsDropped.inc(n),
      onSent: (n) => liveMetrics.streamEventsSent.inc(n),
      onRejected: () => liveMetrics.streamRejected.inc(),
    },
    erasures: {
      produce: (r, signal) => {
        if (pub === undefined) throw new Error('this process does not ingest (keyflow worker)');
        const value = encodeEraseUser({ type: ERASE_USER, ...r });
        return pub.publish([{ id: r.erasureId, key: r.userId, value }], signal, { [COMMAND_HEADER]: ERASE_USER });
      },
      record: (r) => inSpan('INSERT recordErasure', { kind: SpanKind.CLIENT, attributes: { ...pgAttributes, 'db.operation.name': 'INSERT', 'db.collection.name': 'erasures', 'db.query.summary': 'INSERT recordErasure' } }, () =>
        recordErasure(sql, { erasureId: r.erasureId, userId: r.userId, requestedAt: new Date(r.requestedAt) })),
      get: (id) => inSpan('SELECT getErasure', { kind: SpanKind.CLIENT, attributes: { ...pgAttributes, 'db.operation.name': 'SELECT', 'db.collection.name': 'erasures', 'db.query.summary': 'SELECT getErasure' } }, () =>
        getErasure(sql, id)),
    },
    options: {
      maxBodyBytes: config.maxBodyBytes,
      maxBatchEvents: 1000,
      partitionKey: config.partitionKey,
      decodeInPoolFromBytes: config.ingestPoolMinBytes,
      apiKeys: config.apiKeys,
      openToNetwork: config.auth === 'none',
      ...(config.cursorSecret === '' ? {} : { cursorSecret: config.cursorSecret }),
      ...(internalToken === undefined ? {} : { internalToken }),
      retentionDays: config.retentionDays,
      maxFutureMs: config.maxFutureMs,
      commandsSigned: config.edgeToken !== undefined,
      bodyTimeoutMs: config.bodyTimeoutMs,
      authFailuresPerMin: config.authFailuresPerMin,
      trustedProxies: config.trustedProxies,
      onRequest: ({ key, status }) => metrics.apiRequests.inc({ key, status: String(status) }),
      onAccepted: (n) => metrics.eventsAccepted.inc(n),
      onRejected: (n) => metrics.eventsRejected.inc(n),
      onSegmentRejected: (reason, n) => metrics.segmentRejected.inc({ reason }, n),
      ...(config.corsOrigins === undefined ? {} : { corsOrigins: config.corsOrigins }),
      onError: (e, request) => log.warn('request failed', { ...errorFields(e), ...request }),
    },
  };
  const root = new Hono();
  const httpLog = log.child({ component: 'http' });
  root.use('*', traceRequests({
    onRequest: (r) => {
      metrics.httpRequestDuration.observe({ method: r.method, route: r.route, status_code: String(r.status) }, r.seconds);
      httpLog.debug('request', { requestId: r.requestId, method: r.method, route: r.route, path: r.path, status: r.status, ms: Math.round(r.seconds * 1000) });
    },
  }));
  // Each query the edge makes is one client span: a report's trace shows the SQL's duration.
  root.route('/', createApp({ ...deps, queries: withDbSpans(deps.queries, pgAttributes, 'SELECT') }));
  // After the edge, so its guard (admin scope) covers them too.
  if (config.faultsEnabled && sup !== undefined) root.route('/', faultRoutes(sup, log, publishFaults));
  // The root answers unknown routes and errors itself: in the error body, like the edge.
  answerErrors(root, deps.options);
  // The socket is bound before the workers start, so /healthz answers during start-up and
  // /readyz says what is still missing; the workers learn the URL they advertise.
  const server = (held.server = await serveApp(root, { port: config.port, host: config.host }));
  advertiseUrl = config.advertiseUrl ?? `http://${config.host === '0.0.0.0' ? hostname() : config.host}:${server.port}`;

  reconciler.start();
  try {
    await sup?.start({ advertiseUrl, partitionCount });
  } catch (e) {
    // A signal during start-up drains the workers that were starting; that is not a failure.
    if (stopping === undefined) {
      log.error('workers failed to start', errorFields(e));
      await shutdown('workers failed to start', 1);
    }
    return;
  }
  const heap = mainHeapCheck(config.mainHeapMb);
  if (!heap.applied) {
    log.warn('the main thread heap limit is not KEYFLOW_MAIN_HEAP_MB', { mainHeapMb: config.mainHeapMb, heapLimitMb: heap.limitMb, fix: `start node with --max-old-space-size=${config.mainHeapMb} (npm start and the image do)` });
  }
  log.info('keyflow ready', { command, url: `http://${config.host}:${server.port}`, advertiseUrl, workers: sup ? config.workers : 0, mainHeapLimitMb: heap.limitMb });
}

const lifecycleStates: readonly LifecycleState[] = ['starting', 'running', 'draining', 'stopped', 'failed'];

/** The gauges read at scrape time: dependency health, readiness, each worker's lifecycle. */
async function recordHealth(metrics: KeyflowMetrics, readiness: { readiness(): Promise<{ ready: boolean; checks: Readonly<Record<string, { ok: boolean }>> }> }, sup: Supervisor | undefined): Promise<void> {
  const r = await readiness.readiness();
  metrics.ready.set(r.ready ? 1 : 0);
  for (const [name, check] of Object.entries(r.checks)) if (name !== 'workers') metrics.dependencyUp.set({ dependency: name }, check.ok ? 1 : 0);
  for (const w of sup?.workerStates() ?? []) {
    for (const state of lifecycleStates) metrics.workerState.set({ worker: String(w.workerId), state }, w.state === state ? 1 : 0);
  }
}

/** Test-only routes that make a worker or the next publishes fail on purpose (mounted only with KEYFLOW_FAULTS=1). */
function faultRoutes(sup: Supervisor, log: Logger, publishFaults: { remaining: number }): Hono {
  const app = new Hono();
  app.post('/v1/admin/faults/publish/:count', (c) => {
    const count = Number(c.req.param('count'));
    if (!Number.isInteger(count) || count < 0 || count > 1000) return c.json({ error: { code: 'bad_request', message: 'count is an integer from 0 to 1000' } }, 400);
    log.warn('publish faults requested', { count });
    publishFaults.remaining = count;
    return c.json({ injected: 'publish', count }, 202);
  });
  app.post('/v1/admin/faults/workers/:id/:kind', async (c) => {
    const kind = c.req.param('kind');
    const id = Number(c.req.param('id'));
    if (kind !== 'exit' && kind !== 'throw' && kind !== 'hang' && kind !== 'consumer-crash') return c.json({ error: { code: 'bad_request', message: 'kind is exit, throw, hang or consumer-crash' } }, 400);
    // consumer-crash: the consumer crashes this many times in a row (1–100, default 3).
    const count = c.req.query('count') === undefined ? undefined : Number(c.req.query('count'));
    if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 100)) return c.json({ error: { code: 'bad_request', message: 'count is an integer from 1 to 100' } }, 400);
    log.warn('fault requested', { workerId: id, kind, count });
    await sup.fault(id, kind, count);
    return c.json({ injected: kind, workerId: id, ...(count === undefined ? {} : { count }) }, 202);
  });
  return app;
}
