// One worker's consumption loop: Kafka → actors → flush → offsets → live counters. This
// module wires a kafkajs consumer to the actors; the rules of the flush live in its parts:
// - ./offset-ledger.ts: offsets are committed only after the rows they cover are committed,
//   and never across a rebalance (the generation fence);
// - ./flusher.ts: the flush's one synchronous take step, its retry with backoff, what an
//   attempt holds counting as pending, flushes asked for during a flush;
// - ./flush-steps.ts: a flush in the stores — rows, then offsets, then the live view;
// - ./decode-message.ts: what a message is (event, command, dead letter);
// - ./reproduce.ts: an event keyed by something else than its partition key is re-produced
//   keyed by it, and its offset counts only once Kafka acknowledged the copy;
// - ./spans.ts: the process and flush spans;
// - ./batch-retry.ts: a batch whose processing throws is retried, then dead-lettered;
// - ./consumer-restart.ts: a consumer kafkajs gave up on is started again.
//
// Backpressure: when more than maxPendingEvents, or more than maxPendingBytes (message bytes),
// are pending the worker pauses its partitions (the rest of the fetched batch stays
// unresolved and is fetched again) and resumes them once a flush brought the pending work
// below half of both. When the group starts to
// rebalance, the worker flushes and commits before it lets its partitions go.
//
// Commands: an erasure is run where it sits in its partition — everything consumed before
// it is flushed first, then the erase transaction runs, then its offset is committed by the
// next flush, all before the next message of the batch is handled. A command that cannot be
// decoded, or that the store refuses for its data, is dead-lettered, so no command blocks a
// partition.
//
// Lifecycle: drain stops consuming and flushes what was taken, within a deadline, staying in
// the group; stop drains, then leaves it. `await using` a worker stops it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, ConsumerRunConfig, Kafka, KafkaMessage } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { Attributes, SpanContext } from '@opentelemetry/api';
import { ActorRegistry, expiredMessage, futureCutoffMs, futureMessage, partitionKeyOf, retentionCutoffMs, type EraseUserCommand, type KeyflowEvent, type Pending } from '../../actors/index.ts';
import type { Sql } from '../../db/index.ts';
import { postgresAttributes, type KeyflowMetrics } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { messageTrust, partitionOf, RECEIVED_AT_HEADER, type MessageTrust } from '../kafka/index.ts';
import { Lifecycle } from '../lifecycle.ts';
import { errorFields, type Logger } from '../log/index.ts';
import type { ActorLocation, LifecycleState, StallExcuse, WorkerStatus } from '../protocol.ts';
import { isRebalancing, processWithRetry, type BatchDeadLetter, type BatchView } from './batch-retry.ts';
import { ConsumerRestarter } from './consumer-restart.ts';
import { decodeMessage, type DecodedMessage } from './decode-message.ts';
import { ErasureFences, forgetLiveUser, tracedEraseUser } from './erasure.ts';
import { FlushSteps, type Stored } from './flush-steps.ts';
import { Flusher } from './flusher.ts';
import { LiveWriter } from './live-counters.ts';
import { OffsetLedger } from './offset-ledger.ts';
import { isReproduced, misKeyedFrom, misKeyOf, Reproducer } from './reproduce.ts';
import { recordProcessSpan } from './spans.ts';
import { isDataError, type Meta } from './store-batch.ts';

export type PartitionWorkerDeps = {
  readonly workerId: number;
  readonly config: Config;
  readonly kafka: Kafka;
  readonly sql: Sql;
  readonly redis: Redis;
  readonly log: Logger;
  readonly metrics: KeyflowMetrics;
  readonly tracingEnabled: boolean;
  /** Partitions of the topic, to say which one a key belongs to. */
  readonly partitionCount: number;
  /** Told the partitions of each new assignment. */
  readonly onAssigned?: (partitions: readonly number[]) => void;
  /** Told, after each flush that stored events, the newest occurredAt it stored per partition. */
  readonly onStored?: (newestByPartition: ReadonlyMap<number, number>) => void;
  /** Told of every consumer crash kafkajs reports. */
  readonly onConsumerError?: () => void;
  /** Told of every restart of the consumer after a crash: by kafkajs itself, or by the worker when kafkajs gave up. */
  readonly onConsumerRestart?: (by: 'kafkajs' | 'keyflow') => void;
};

/** How long after a wait for the store its partitions still count as waiting for PostgreSQL. */
const STORE_WAIT_GRACE_MS = 5_000;

/** When the edge received a message: its header, else the Kafka timestamp, else now. */
function receivedAtOf(message: KafkaMessage, now: number): number {
  const h = message.headers?.[RECEIVED_AT_HEADER];
  const stamped = Number((Array.isArray(h) ? h[0] : h)?.toString());
  if (Number.isFinite(stamped) && stamped > 0) return stamped;
  const ts = Number(message.timestamp);
  return Number.isFinite(ts) && ts > 0 ? ts : now;
}

/**
 * KEYFLOW_FAULTS only: named like the error kafkajs throws for a codec it lacks, which it does
 * not retry: it gives up on the consumer (crash, restart: false).
 */
class InjectedConsumerCrash extends Error {
  override readonly name = 'KafkaJSNotImplemented';
  readonly code = 'KEYFLOW_INJECTED_CONSUMER_CRASH';
  readonly retriable = false;
}

type EachBatchPayloadLike = Parameters<NonNullable<ConsumerRunConfig['eachBatch']>>[0];

/** A kafkajs consumer in the keyflow group, feeding this thread's actors. */
export class PartitionWorker {
  readonly #d: PartitionWorkerDeps;
  readonly #consumer: Consumer;
  readonly #registry: ActorRegistry<Meta>;
  readonly #life: Lifecycle;
  readonly #ledger = new OffsetLedger();
  readonly #flusher: Flusher<Pending<Meta>, Stored>;
  #inBatch: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #paused = false;
  #drained: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  readonly #pgAttributes: Attributes;
  readonly #steps: FlushSteps;
  readonly #live: LiveWriter;
  /** The deployment's secret: commands run only when signed with it, signed events are not validated again. */
  readonly #trust: MessageTrust | undefined;
  readonly #fences = new ErasureFences();
  readonly #restarter: ConsumerRestarter;
  /** Until when the partitions count as waiting for PostgreSQL (a retry loop on the store ran). */
  #storeWaitUntil = 0;
  /** True from a failed flush until a flush stored everything again. */
  #storeFailing = false;
  /** KEYFLOW_FAULTS only: crashes still to inject, one per run of the consumer. */
  #crashesToInject = 0;
  readonly #reproducer: Reproducer;

  constructor(deps: PartitionWorkerDeps) {
    this.#d = deps;
    this.#trust = messageTrust(deps.config);
    this.#life = new Lifecycle(`worker ${deps.workerId}`);
    this.#reproducer = new Reproducer(deps.kafka, deps.config.topic);
    this.#live = new LiveWriter(deps.redis, deps.config.redisPrefix, (e) => {
      deps.metrics.liveUpdateFailures.inc();
      deps.log.debug('live view not updated', errorFields(e));
    });
    const c = deps.config;
    this.#pgAttributes = postgresAttributes(c.databaseUrl);
    // Every series exists from the start, so the first dead letter or duplicate is an increase
    // that rate() and the alerting rules see, not a series appearing out of nowhere.
    deps.metrics.pausedPartitions.set({ worker: String(deps.workerId) }, 0);
    for (const reason of ['not-json', 'schema', 'empty', 'too-large', 'store-rejected', 'unsigned-command', 'future', 'batch-failed', 'undecodable-batch']) deps.metrics.deadLetters.inc({ reason }, 0);
    for (const stage of ['memory', 'store']) deps.metrics.eventsDeduplicated.inc({ stage }, 0);
    this.#consumer = deps.kafka.consumer({
      groupId: c.groupId,
      // Short enough that a crashed process's partitions move on quickly; the backpressure
      // loop heartbeats between flush attempts so a slow store does not cost the assignment.
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 3_000,
      // What one fetch may hold in memory: sized from the configuration.
      maxBytes: c.fetchMaxBytes,
      maxBytesPerPartition: Math.min(c.fetchMaxBytes, 1024 * 1024),
      minBytes: c.fetchMinBytes,
      // The broker's long-poll when a partition is idle; also how long leaving the group
      // waits for the fetch in flight, so it bounds shutdown time.
      maxWaitTimeInMs: c.fetchMaxWaitMs,
      allowAutoTopicCreation: false,
    });
    this.#registry = new ActorRegistry<Meta>({
      dedupWindowEntries: c.dedupWindowEntries,
      dedupWindowMs: c.dedupWindowMs,
      actorIdleMs: c.actorIdleMs,
      maxActors: c.maxActors,
      maxDedupEntries: c.dedupMaxEntries,
      coldDedupEntries: c.coldDedupEntries,
    });
    const steps = (this.#steps = new FlushSteps({
      ...deps,
      live: this.#live,
      registry: this.#registry,
      ledger: this.#ledger,
      commitOffsets: (offsets) => this.#consumer.commitOffsets(offsets.map((o) => ({ topic: c.topic, ...o }))),
    }));
    this.#flusher = new Flusher<Pending<Meta>, Stored>({
      events: this.#registry,
      ledger: this.#ledger,
      intervalMs: c.flushIntervalMs,
      maxEvents: c.flushMaxEvents,
      maxBytes: c.flushMaxBytes,
      deadLetterMaxBytes: c.deadLetterMaxBytes,
      store: (batch) => steps.store(batch),
      settle: (batch, stored) => steps.settle(batch, stored),
      onRetry: (e, retry) => {
        // Until a flush stores everything again, this worker waits for PostgreSQL: not a stall.
        this.#storeFailing = true;
        steps.failed(e, retry);
      },
      afterFlush: () => {
        this.#storeFailing = false;
        this.#resumeIfDrained();
      },
    });
    this.#restarter = new ConsumerRestarter({
      start: () => this.#runConsumer(),
      live: () => this.#life.state === 'running',
      onRestart: (attempt, waitedMs) => {
        deps.log.warn('restarting the Kafka consumer that kafkajs gave up on', { attempt, waitedMs: Math.round(waitedMs) });
        deps.onConsumerRestart?.('keyflow');
      },
      onFailed: (e, attempt) => deps.log.warn('consumer restart failed; will retry', { ...errorFields(e), attempt }),
    });
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /** Join the consumer group and start consuming. */
  async start(): Promise<void> {
    const { config } = this.#d;
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#ledger.assign(payload.memberAssignment[config.topic] ?? []);
      this.#fences.reset();
      this.#d.log.info('partitions assigned', { partitions: this.#ledger.partitions });
      this.#d.onAssigned?.(this.#ledger.partitions);
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#d.onConsumerError?.();
      this.#d.log.error('consumer crashed', { error: payload.error.message, name: payload.error.name, restart: payload.restart });
      if (payload.restart) {
        this.#d.onConsumerRestart?.('kafkajs');
        return;
      }
      // kafkajs left the group and stops here for good: nothing of the old assignment is ours to commit.
      this.#ledger.assign([]);
      this.#fences.reset();
      this.#d.onAssigned?.([]);
      this.#restarter.crashed();
    });
    // A fetched batch of only transaction markers or aborted records never reaches eachBatch:
    // kafkajs resolves it but, with autoCommit off, commits nothing. Its offsets go with the
    // next flush, or the group would show a lag of 1 (and a stall) behind every transaction.
    this.#consumer.on(this.#consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const { topic, partition, batchSize, firstOffset, lastOffset } = payload;
      if (batchSize === 0 && firstOffset !== null && topic === config.topic && this.#ledger.partitions.includes(partition)) this.#flusher.consumed(partition, lastOffset);
    });
    this.#live.listenForDemand();
    await this.#runConsumer();
    const tick = Math.max(5, Math.min(100, Math.floor(config.flushIntervalMs / 4)));
    this.#timer = setInterval(() => this.#tick(), tick);
    this.#life.to('running');
  }

  /** Connect, subscribe and run the consumer (at start, and again after kafkajs gave up on it). */
  async #runConsumer(): Promise<void> {
    const { config, log, metrics } = this.#d;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic: config.topic, fromBeginning: true });
    let crashing = false;
    const run: ConsumerRunConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        // One injected crash per run of the consumer (its batches of one fetch all fail).
        if (this.#crashesToInject > 0 || crashing) {
          if (!crashing) this.#crashesToInject--;
          crashing = true;
          throw new InjectedConsumerCrash('injected fault: consumer crash (KEYFLOW_FAULTS=1)');
        }
        const run = processWithRetry(payload, (view, resolveOffset) => this.#eachBatch(view, { ...payload, resolveOffset }), {
          baseMs: config.batchRetryBaseMs,
          live: () => this.#life.state === 'running',
          failSwitch: config.testFailBatch,
          onRebalancing: () => this.#flusher.flush(),
          onRetry: (e, attempt, waitMs) => {
            metrics.batchRetries.inc();
            log.warn('processing a batch failed; will retry', { ...errorFields(e), partition: payload.batch.partition, attempt, retryInMs: Math.round(waitMs) });
          },
          deadLetter: (letter) => this.#deadLetterBatch(letter),
          skipped: (offset) => this.#flusher.consumed(payload.batch.partition, offset),
        }).then(() => this.#restarter.progressed());
        this.#inBatch = run.catch(() => undefined);
        return run;
      },
    };
    await this.#consumer.run(run);
    // A restarted consumer does not know it was paused by backpressure.
    if (this.#paused) this.#setConsumerPaused(true);
  }

  /** KEYFLOW_FAULTS only: make the consumer crash, as kafkajs does on an error it does not retry, `count` times in a row. */
  injectConsumerCrashes(count: number): void {
    this.#crashesToInject = count;
  }

  /** A batch's remaining messages after its last failed attempt: one dead letter (./batch-retry.ts). */
  #deadLetterBatch(letter: BatchDeadLetter): void {
    const { topic, partition, offset, lastOffset, key, raw, reason, error } = letter;
    // The flusher keeps at most KEYFLOW_DEAD_LETTER_MAX_BYTES of raw, with its full length and SHA-256.
    this.#flusher.deadLetter({ topic, partition, offset, lastOffset, key, raw, reason, error });
    this.#d.metrics.deadLetters.inc({ reason });
    this.#flusher.consumed(partition, letter.lastOffset);
    this.#d.log.error('a batch failed on every attempt; its remaining messages are dead-lettered', { partition, error });
  }

  async #eachBatch(batch: BatchView, { resolveOffset, heartbeat, isRunning, isStale }: Pick<EachBatchPayloadLike, 'resolveOffset' | 'heartbeat' | 'isRunning' | 'isStale'>): Promise<void> {
    const { config } = this.#d;
    const { topic, partition } = batch;
    const live = (): boolean => this.#life.state === 'running' && isRunning() && !isStale();
    const decodedAt: (DecodedMessage | undefined)[] = [];
    let rerouted: ReadonlySet<number> | undefined;
    for (const [i, message] of batch.messages.entries()) {
      // Unresolved messages are fetched again once the partition is resumed or reassigned.
      if (this.#life.state !== 'running' || this.#paused || !isRunning() || isStale()) return;
      if (!this.#fences.loaded(partition) && !(await this.#loadFences(topic, partition, message.offset, live, heartbeat))) return;
      const decoded = (decodedAt[i] ??= decodeMessage(message, this.#trust));
      if (rerouted === undefined && misKeyOf(message, decoded, config.partitionKey) !== undefined) {
        // Every mis-keyed event of the rest of the batch at once: one produce, not one per message.
        if ((rerouted = await this.#reproduce(partition, batch.messages, decodedAt, i, live, heartbeat)) === undefined) return;
      }
      const isEvent = decoded.kind === 'event' || (decoded.kind === 'dead-letter' && decoded.of === 'event');
      if (rerouted?.has(i) === true || decoded.kind === 'skip') {
        this.#flusher.consumed(partition, message.offset); // stored from its copy / covered by its batch's dead letter
      } else if (decoded.kind === 'command') {
        if (!(await this.#runCommand(topic, partition, message, decoded.command, live, heartbeat))) return;
      } else if (isEvent) {
        this.#handle(topic, partition, message, decoded);
      } else {
        this.#deadLetter(topic, partition, message, decoded.reason, decoded.error);
      }
      resolveOffset(message.offset);
      if ((isEvent && this.#flusher.pending >= config.maxPendingEvents) || this.#flusher.pendingBytes >= config.maxPendingBytes) {
        this.#pause();
        void this.#flusher.flush();
        return;
      }
    }
    try {
      await heartbeat();
    } catch (e) {
      if (isRebalancing(e)) {
        // Still in the old generation: flush and commit before the partitions move.
        this.#d.log.info('group is rebalancing; flushing before letting partitions go');
        await this.#flusher.flush();
      }
      throw e;
    }
    this.#flusher.flushIfFull();
  }

  /** Pause or resume the consumer; a consumer kafkajs stopped has nothing to pause (its restart re-applies it). */
  #setConsumerPaused(paused: boolean): void {
    try {
      if (paused) this.#consumer.pause([{ topic: this.#d.config.topic }]);
      else this.#consumer.resume([{ topic: this.#d.config.topic }]);
    } catch (e) {
      this.#d.log.debug('consumer not running; pause state kept for its restart', errorFields(e));
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#setConsumerPaused(true);
    this.#d.metrics.partitionPauses.inc();
    this.#d.metrics.pausedPartitions.set({ worker: String(this.#d.workerId) }, this.#ledger.partitions.length);
    this.#d.log.debug('paused partitions: too much pending', { pending: this.#flusher.pending, pendingBytes: this.#flusher.pendingBytes });
  }

  #resumeIfDrained(): void {
    if (!this.#paused || this.#life.state !== 'running') return;
    if (this.#flusher.pending >= this.#d.config.maxPendingEvents / 2 || this.#flusher.pendingBytes >= this.#d.config.maxPendingBytes / 2) return;
    this.#paused = false;
    this.#setConsumerPaused(false);
    this.#d.metrics.partitionResumes.inc();
    this.#d.metrics.pausedPartitions.set({ worker: String(this.#d.workerId) }, 0);
  }

  /** A message that is not usable: a row of dead_letters in the next flush. */
  #deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, error: string): void {
    this.#flusher.deadLetter({ topic, partition, offset: message.offset, key: message.key, raw: message.value, reason, error });
    this.#d.metrics.deadLetters.inc({ reason });
    this.#flusher.consumed(partition, message.offset);
  }

  /** An event's message (or its dead letter): into its actor, for the next flush. */
  #handle(topic: string, partition: number, message: KafkaMessage, decoded: Exclude<DecodedMessage, { kind: 'command' | 'skip' }>): void {
    const { metrics, config } = this.#d;
    const now = Date.now();
    metrics.eventsConsumed.inc();
    this.#flusher.consumed(partition, message.offset);
    if (decoded.kind === 'dead-letter') return this.#deadLetter(topic, partition, message, decoded.reason, decoded.error);
    const event: KeyflowEvent = decoded.event;
    // Retention as of when the message was produced (the edge accepted it then), never
    // later than now: what the edge accepted is kept, an expired event straight from Kafka
    // is a dead letter rather than a row the next maintenance silently drops.
    const producedAt = Number(message.timestamp);
    const cutoff = retentionCutoffMs(Number.isFinite(producedAt) && producedAt > 0 ? Math.min(producedAt, now) : now, config.retentionDays);
    if (event.occurredAt < cutoff) return this.#deadLetter(topic, partition, message, 'expired', `occurredAt ${expiredMessage(cutoff, config.retentionDays)}`);
    // The other end, as of this worker's clock only (a producer chooses its message timestamps):
    // what the edge accepted is never later than that, a far-future event from Kafka is refused.
    const latest = futureCutoffMs(now, config.maxFutureMs);
    if (event.occurredAt > latest) return this.#deadLetter(topic, partition, message, 'future', `occurredAt ${futureMessage(latest, config.maxFutureMs)}`);
    const span: SpanContext | undefined = this.#d.tracingEnabled
      ? recordProcessSpan({ topic, partition, groupId: config.groupId, workerId: this.#d.workerId }, message, event.id)
      : undefined;
    const key = partitionKeyOf(event, config.partitionKey);
    // Replayed from before a done erasure of this key: that erasure already erased it.
    if (this.#fences.drops(partition, key, message.offset)) return;
    const bytes = message.value?.byteLength ?? 0;
    // A copy of a mis-keyed event produced before a done erasure of its key: that erasure covers it.
    if (isReproduced(message) && this.#fences.dropsCopy(partition, key, producedAt)) return;
    const outcome = this.#registry.offer(key, event, { partition, offset: message.offset, span, receivedAtMs: receivedAtOf(message, now), bytes }, now);
    if (outcome === 'duplicate') metrics.eventsDeduplicated.inc({ stage: 'memory' });
    else this.#flusher.added(bytes);
  }

  /**
   * Re-produce the mis-keyed events of `messages[from…]` keyed by their partition key
   * (./reproduce.ts), retrying while Kafka refuses; their indexes once acknowledged, undefined
   * when the batch was given up (a rebalance, a drain) — it is fetched again.
   */
  async #reproduce(partition: number, messages: readonly KafkaMessage[], decoded: (DecodedMessage | undefined)[], from: number, live: () => boolean, heartbeat: () => Promise<void>): Promise<ReadonlySet<number> | undefined> {
    const found = misKeyedFrom(messages, decoded, from, this.#d.config.partitionKey, (m) => decodeMessage(m, this.#trust));
    const items = found.map(({ index, key }) => ({ message: messages[index] as KafkaMessage, key }));
    for (let failures = 0; live(); failures++) {
      try {
        await this.#reproducer.reproduce(partition, items);
        this.#d.log.debug('re-produced events keyed by their partition key', { partition, events: items.length });
        return new Set(found.map((f) => f.index));
      } catch (e) {
        this.#d.log.warn('re-producing mis-keyed events failed; will retry', { ...errorFields(e), partition, events: items.length });
        if (!(await this.#pauseBriefly(failures, heartbeat))) return undefined;
      }
    }
    return undefined;
  }

  /** Load the partition's erasure fences, retrying while the store is down; false: give up the batch. */
  async #loadFences(topic: string, partition: number, offset: string, live: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    for (let failures = 0; live(); failures++) {
      try {
        await this.#fences.load(this.#d.sql, topic, partition, offset);
        return true;
      } catch (e) {
        this.#d.log.warn('erasure fences not loaded; will retry', { ...errorFields(e), partition });
        if (!(await this.#pauseBriefly(failures, heartbeat))) return false;
      }
    }
    return false;
  }

  /**
   * Run one command at its place in the partition (the module rule). True when it is done or
   * dead-lettered and its offset may be resolved; false when the batch was given up (a
   * rebalance, a drain) — it is fetched again, and a replayed erasure is skipped by the store.
   */
  async #runCommand(topic: string, partition: number, message: KafkaMessage, cmd: EraseUserCommand, live: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    const { log, metrics, sql, config } = this.#d;
    // Everything consumed before the command is stored first, so the erase sees it.
    for (let failures = 0; ; failures++) {
      if (!live()) return false;
      await this.#flusher.flush();
      if (this.#flusher.allStored) break;
      if (!(await this.#pauseBriefly(failures, heartbeat))) return false;
    }
    const startedAt = Date.now();
    let result;
    for (let failures = 0; ; failures++) {
      if (!live()) return false;
      try {
        result = await tracedEraseUser(sql, { erasureId: cmd.erasureId, userId: cmd.userId, requestedAt: new Date(cmd.requestedAt), topic, partition, offset: message.offset }, {
          topic, partition, offset: message.offset, headers: message.headers, groupId: config.groupId, workerId: this.#d.workerId, db: this.#pgAttributes,
        });
        break;
      } catch (e) {
        if (isDataError(e)) {
          this.#deadLetter(topic, partition, message, 'command-rejected', (e as Error).message);
          return true;
        }
        log.warn('erasure failed; will retry', { ...errorFields(e), erasureId: cmd.erasureId, failures });
        if (!(await this.#pauseBriefly(failures, heartbeat))) return false;
      }
    }
    this.#registry.forget(cmd.userId, result.identities);
    this.#fences.erased(partition, cmd.userId, cmd.requestedAt);
    try {
      await forgetLiveUser(this.#d.redis, config.redisPrefix, cmd.userId);
    } catch (e) {
      metrics.liveUpdateFailures.inc();
      log.debug('live view did not forget the erased user', errorFields(e));
    }
    log.info(result.ran ? 'erasure done' : 'erasure replayed; it was done already', {
      erasureId: cmd.erasureId, partition, offset: message.offset, eventsErased: result.eventsErased, ms: Date.now() - startedAt,
    });
    this.#flusher.consumed(partition, message.offset);
    await this.#flusher.flush(); // commits the command's offset
    return true;
  }

  /** Back off (capped at 2 s) while staying in the group; false when the group is rebalancing. */
  async #pauseBriefly(failures: number, heartbeat: () => Promise<void>): Promise<boolean> {
    const ms = Math.min(2_000, 100 * 2 ** Math.min(failures, 5));
    // Every caller retries the store: its partitions wait for PostgreSQL, they are not stalled.
    this.#storeWaitUntil = Date.now() + ms + STORE_WAIT_GRACE_MS;
    await sleep(ms);
    try {
      await heartbeat();
      return true;
    } catch (e) {
      if (!isRebalancing(e)) throw e;
      await this.#flusher.flush();
      return false;
    }
  }

  #tick(): void {
    const now = Date.now();
    const { metrics } = this.#d;
    metrics.pendingEvents.set(this.#flusher.pending);
    metrics.pendingBytes.set(this.#flusher.pendingBytes);
    metrics.liveActors.set(this.#registry.size);
    this.#flusher.tick(now);
    this.#live.tick(now);
    if (!this.#flusher.flushing) {
      this.#resumeIfDrained();
      this.#registry.passivate(now);
    }
  }

  /** Flush everything pending now; concurrent calls share one flush loop. Never rejects. */
  flush(): Promise<void> {
    return this.#flusher.flush();
  }

  /**
   * Stop consuming, then flush and commit what was taken, staying in the group so that the
   * other workers of this process are not rebalanced while they drain too. Idempotent.
   */
  drain(deadlineMs = 8_000): Promise<void> {
    this.#drained ??= this.#drain(AbortSignal.timeout(deadlineMs));
    return this.#drained;
  }

  /** Drain if not yet drained, then leave the consumer group. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      try {
        await this.drain();
      } finally {
        this.#restarter.stop();
        this.#live.close();
        await this.#consumer.disconnect();
        await this.#reproducer.close();
        if (this.#life.state === 'draining') this.#life.to('stopped');
      }
    })();
    return this.#stopped;
  }

  /** `await using worker = new PartitionWorker(…)`: stopped (drained first) at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #drain(deadline: AbortSignal): Promise<void> {
    if (this.#life.state === 'starting' || this.#life.state === 'running') this.#life.to('draining');
    clearInterval(this.#timer);
    this.#restarter.stop();
    try {
      this.#setConsumerPaused(true);
      await this.#inBatch;
      await this.#flusher.drain(deadline);
      const left = this.#flusher.retryEvents;
      if (left !== undefined) this.#d.log.warn('drain deadline passed with unflushed events; they will be redelivered', { events: left });
    } catch (e) {
      if (this.#life.can('failed')) this.#life.to('failed');
      throw e;
    }
  }

  status(): WorkerStatus {
    return {
      workerId: this.#d.workerId,
      state: this.#life.state,
      partitions: this.#ledger.partitions,
      pendingEvents: this.#flusher.pending,
      liveActors: this.#registry.size,
      lastFlushAt: this.#steps.lastFlushAt === null ? null : new Date(this.#steps.lastFlushAt).toISOString(),
      ...this.#stallExcuse(),
    };
  }

  /** Why this worker's partitions may make no progress without being stalled, if they may. */
  #stallExcuse(): { stallExcuse?: StallExcuse } {
    if (this.#storeFailing || Date.now() < this.#storeWaitUntil) return { stallExcuse: 'postgres' };
    if (this.#paused) return { stallExcuse: 'paused' };
    return {};
  }

  actor(key: string): ActorLocation | undefined {
    const s = this.#registry.snapshot(key);
    if (s === undefined) return undefined;
    return { ...s, workerId: this.#d.workerId, partition: partitionOf(key, this.#d.partitionCount) };
  }
}
