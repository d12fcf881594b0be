// One worker's consumption loop: Kafka → actors → flush → offsets → live counters.
//
// Rule: offsets are committed only after the rows they cover are committed. A flush takes,
// in one synchronous step, every pending event, every dead letter and the last consumed
// offset of each partition; once the flush transaction commits, those offsets (+1) are
// committed — unless the group rebalanced since that step (the generation fence), because a
// partition that moved is no longer ours to commit. Everything consumed before that step is
// either in that transaction or was a duplicate, so a crash anywhere replays only what the
// store will deduplicate.
//
// Backpressure: when more than maxPendingEvents are pending the worker pauses its partitions
// (the rest of the fetched batch stays unresolved and is fetched again) and resumes them
// once a flush brought the pending work below half of that. When the group starts to
// rebalance, the worker flushes and commits before it lets its partitions go.
//
// Commands (a message with the keyflow-command header, see actors/command): an erasure is
// run where it sits in its partition — everything consumed before it is flushed first, then
// the erase transaction runs, then its offset is committed by the next flush, all before the
// next message of the batch is handled. A command that cannot be decoded, or that the store
// refuses for its data, is dead-lettered, so no command blocks a partition.
//
// Tracing: each message's `process` span continues the producer's trace (Kafka headers); a
// flush span is a child of its first event's and links to the others (up to 128), and the
// store, the offset commit and the live update are client spans inside it.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Redis } from 'ioredis';
import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { ActorRegistry, decodeCommand, decodeEvent, expiredMessage, partitionKeyOf, retentionCutoffMs, type Pending } from '../../actors/index.ts';
import { type DeadLetterRow, type Sql } from '../../db/index.ts';
import { extractHeaders, inSpan, postgresAttributes, redisAttributes, tracer, type KeyflowMetrics } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { partitionOf, RECEIVED_AT_HEADER } from '../kafka/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import type { ActorLocation, LifecycleState, WorkerStatus } from '../protocol.ts';
import { LiveWriter } from './live-counters.ts';
import { commandOf, ErasureFences, forgetLiveUser, tracedEraseUser } from './erasure.ts';
import { isDataError, storeBatch, type Meta } from './store-batch.ts';
import { backoffMs } from '../backoff.ts';

/** One flush's worth of work. */
type Batch = { entries: Pending<Meta>[]; deadLetters: DeadLetterRow[]; offsets: Map<number, string> };

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
};

/** kafkajs signals a rebalance in progress through the heartbeat. */
const isRebalancing = (e: unknown): boolean => (e as { type?: unknown } | null)?.type === 'REBALANCE_IN_PROGRESS';

/** Links kept on one flush span; the rest are counted in an attribute. */
const MAX_FLUSH_LINKS = 128;


/** When the edge received a message: its header, else the Kafka timestamp, else now. */
function receivedAtOf(message: KafkaMessage, now: number): number {
  const h = message.headers?.[RECEIVED_AT_HEADER];
  const stamped = Number((Array.isArray(h) ? h[0] : h)?.toString());
  if (Number.isFinite(stamped) && stamped > 0) return stamped;
  const ts = Number(message.timestamp);
  return Number.isFinite(ts) && ts > 0 ? ts : now;
}

const transitions: Record<LifecycleState, readonly LifecycleState[]> = {
  starting: ['running', 'draining', 'failed'],
  running: ['draining', 'failed'],
  draining: ['stopped', 'failed'],
  stopped: [],
  failed: [],
};

/** A kafkajs consumer in the keyflow group, feeding this thread's actors. */
export class PartitionWorker {
  readonly #d: PartitionWorkerDeps;
  readonly #consumer: Consumer;
  readonly #registry: ActorRegistry<Meta>;
  #state: LifecycleState = 'starting';
  #deadLetters: DeadLetterRow[] = [];
  readonly #consumed = new Map<number, string>();
  readonly #committed = new Map<number, string>();
  #dirtySince: number | undefined;
  #retry: Batch | undefined;
  #retryAt = 0;
  /** Events and dead letters in the flush attempt under way: still held, so still pending. */
  #inFlight = 0;
  #failures = 0;
  #flushing: Promise<void> | undefined;
  #flushAgain = false;
  #inBatch: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #partitions: number[] = [];
  #generation = 0;
  #paused = false;
  #lastFlushAt: number | null = null;
  #drained: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  readonly #pgAttributes: Attributes;
  readonly #redisAttributes: Attributes;
  readonly #live: LiveWriter;
  readonly #fences = new ErasureFences();

  constructor(deps: PartitionWorkerDeps) {
    this.#d = deps;
    this.#live = new LiveWriter(deps.redis, deps.config.redisPrefix, (e) => {
      deps.metrics.liveUpdateFailures.inc();
      deps.log.debug('live view not updated', errorFields(e));
    });
    const c = deps.config;
    this.#pgAttributes = postgresAttributes(c.databaseUrl);
    this.#redisAttributes = redisAttributes(c.redisUrl);
    // Every series exists from the start, so the first dead letter or duplicate is an increase
    // that rate() and the alerting rules see, not a series appearing out of nowhere.
    deps.metrics.pausedPartitions.set({ worker: String(deps.workerId) }, 0);
    for (const reason of ['not-json', 'schema', 'empty', 'too-large', 'store-rejected']) deps.metrics.deadLetters.inc({ reason }, 0);
    for (const stage of ['memory', 'store']) deps.metrics.eventsDeduplicated.inc({ stage }, 0);
    this.#consumer = deps.kafka.consumer({
      groupId: c.groupId,
      // Short enough that a crashed process's partitions move on quickly; the backpressure
      // loop heartbeats between flush attempts so a slow store does not cost the assignment.
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 1024 * 1024,
      // The broker's long-poll when a partition is idle; also how long leaving the group
      // waits for the fetch in flight, so it bounds shutdown time.
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.#registry = new ActorRegistry<Meta>({
      dedupWindowEntries: c.dedupWindowEntries,
      dedupWindowMs: c.dedupWindowMs,
      actorIdleMs: c.actorIdleMs,
      maxActors: c.maxActors,
    });
  }

  get state(): LifecycleState {
    return this.#state;
  }

  #transition(to: LifecycleState): void {
    if (!transitions[this.#state].includes(to)) throw new Error(`worker ${this.#d.workerId}: illegal transition ${this.#state} → ${to}`);
    this.#state = to;
  }

  /** Join the consumer group and start consuming. */
  async start(): Promise<void> {
    const { config } = this.#d;
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[config.topic] ?? [];
      this.#generation++;
      this.#fences.reset();
      this.#partitions = [...assigned].sort((a, b) => a - b);
      // Offsets of partitions this worker lost are not ours to commit any more; their
      // pending events are still flushed, and the new owner's replay deduplicates them.
      for (const p of this.#consumed.keys()) if (!assigned.includes(p)) this.#consumed.delete(p);
      this.#d.log.info('partitions assigned', { partitions: this.#partitions });
      this.#d.onAssigned?.(this.#partitions);
    });
    this.#consumer.on(this.#consumer.events.CRASH, ({ payload }) => {
      this.#d.onConsumerError?.();
      this.#d.log.error('consumer crashed', { error: payload.error.message, restart: payload.restart });
    });
    this.#live.listenForDemand();
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topic: config.topic, fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        const run = this.#eachBatch(payload);
        this.#inBatch = run.catch(() => undefined);
        return run;
      },
    });
    const tick = Math.max(5, Math.min(100, Math.floor(config.flushIntervalMs / 4)));
    this.#timer = setInterval(() => this.#tick(), tick);
    this.#transition('running');
  }

  async #eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { config } = this.#d;
    const live = (): boolean => this.#state === 'running' && isRunning() && !isStale();
    for (const message of batch.messages) {
      // Unresolved messages are fetched again once the partition is resumed or reassigned.
      if (this.#state !== 'running' || this.#paused || !isRunning() || isStale()) return;
      if (!this.#fences.loaded(batch.partition) && !(await this.#loadFences(batch.topic, batch.partition, message.offset, live, heartbeat))) return;
      const command = commandOf(message.headers);
      if (command !== undefined) {
        if (!(await this.#runCommand(batch.topic, batch.partition, message, command, live, heartbeat))) return;
        resolveOffset(message.offset);
        continue;
      }
      this.#handle(batch.topic, batch.partition, message);
      resolveOffset(message.offset);
      if (this.#workCount() >= config.maxPendingEvents) {
        this.#pause();
        void this.flush();
        return;
      }
    }
    try {
      await heartbeat();
    } catch (e) {
      if (isRebalancing(e)) {
        // Still in the old generation: flush and commit before the partitions move.
        this.#d.log.info('group is rebalancing; flushing before letting partitions go');
        await this.flush();
      }
      throw e;
    }
    if (this.#workCount() >= config.flushMaxEvents) void this.flush();
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#consumer.pause([{ topic: this.#d.config.topic }]);
    this.#d.metrics.partitionPauses.inc();
    this.#d.metrics.pausedPartitions.set({ worker: String(this.#d.workerId) }, this.#partitions.length);
    this.#d.log.debug('paused partitions: too much pending', { pending: this.#workCount() });
  }

  #resumeIfDrained(): void {
    if (!this.#paused || this.#state !== 'running') return;
    if (this.#workCount() >= this.#d.config.maxPendingEvents / 2) return;
    this.#paused = false;
    this.#consumer.resume([{ topic: this.#d.config.topic }]);
    this.#d.metrics.partitionResumes.inc();
    this.#d.metrics.pausedPartitions.set({ worker: String(this.#d.workerId) }, 0);
  }

  #handle(topic: string, partition: number, message: KafkaMessage): void {
    const { metrics, config } = this.#d;
    const now = Date.now();
    metrics.eventsConsumed.inc();
    this.#consumed.set(partition, message.offset);
    this.#dirtySince ??= now;
    const decoded = decodeEvent(message.value);
    if (!decoded.ok) {
      this.#deadLetters.push({ topic, partition, offset: message.offset, key: message.key, raw: message.value, reason: decoded.reason, error: decoded.message });
      metrics.deadLetters.inc({ reason: decoded.reason });
      return;
    }
    const event = decoded.event;
    // Retention as of when the message was produced (the edge accepted it then), never
    // later than now: what the edge accepted is kept, an expired event straight from Kafka
    // is a dead letter rather than a row the next maintenance silently drops.
    const producedAt = Number(message.timestamp);
    const cutoff = retentionCutoffMs(Number.isFinite(producedAt) && producedAt > 0 ? Math.min(producedAt, now) : now, config.retentionDays);
    if (event.occurredAt < cutoff) {
      this.#deadLetters.push({ topic, partition, offset: message.offset, key: message.key, raw: message.value, reason: 'expired', error: `occurredAt ${expiredMessage(cutoff, config.retentionDays)}` });
      metrics.deadLetters.inc({ reason: 'expired' });
      return;
    }
    let span: SpanContext | undefined;
    if (this.#d.tracingEnabled) {
      const s = tracer().startSpan(`${topic} process`, {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': config.groupId,
          'messaging.kafka.offset': Number(message.offset),
          'messaging.kafka.message.offset': Number(message.offset),
          ...(message.key ? { 'messaging.kafka.message.key': message.key.toString() } : {}),
          'keyflow.event.id': event.id,
          'keyflow.worker.id': this.#d.workerId,
        },
      }, extractHeaders(message.headers));
      span = s.spanContext();
      s.end();
    }
    const key = partitionKeyOf(event, config.partitionKey);
    // Replayed from before a done erasure of this key: that erasure already erased it.
    if (this.#fences.drops(partition, key, message.offset)) return;
    const outcome = this.#registry.offer(key, event, { partition, offset: message.offset, span, receivedAtMs: receivedAtOf(message, now) }, now);
    if (outcome === 'duplicate') metrics.eventsDeduplicated.inc({ stage: 'memory' });
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
  async #runCommand(topic: string, partition: number, message: KafkaMessage, name: string, live: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    const { log, metrics, sql, config } = this.#d;
    const decoded = decodeCommand(name, message.value);
    const key = message.key?.toString();
    const deadLetter = (reason: string, error: string): true => {
      this.#deadLetters.push({ topic, partition, offset: message.offset, key: message.key, raw: message.value, reason, error });
      metrics.deadLetters.inc({ reason });
      this.#consumed.set(partition, message.offset);
      this.#dirtySince ??= Date.now();
      return true;
    };
    if (!decoded.ok) return deadLetter('bad-command', decoded.message);
    const cmd = decoded.command;
    // Only a command on its user's key is ordered after that user's events.
    if (key !== cmd.userId) return deadLetter('bad-command', `command key ${JSON.stringify(key ?? null)} is not its userId`);

    // Everything consumed before the command is stored first, so the erase sees it.
    for (let failures = 0; ; failures++) {
      if (!live()) return false;
      await this.flush();
      if (this.#retry === undefined && this.#registry.pendingCount === 0 && this.#deadLetters.length === 0) break;
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
        if (isDataError(e)) return deadLetter('command-rejected', (e as Error).message);
        log.warn('erasure failed; will retry', { ...errorFields(e), erasureId: cmd.erasureId, failures });
        if (!(await this.#pauseBriefly(failures, heartbeat))) return false;
      }
    }
    this.#registry.forget(cmd.userId, result.identities);
    try {
      await forgetLiveUser(this.#d.redis, config.redisPrefix, cmd.userId);
    } catch (e) {
      metrics.liveUpdateFailures.inc();
      log.debug('live view did not forget the erased user', errorFields(e));
    }
    log.info(result.ran ? 'erasure done' : 'erasure replayed; it was done already', {
      erasureId: cmd.erasureId, partition, offset: message.offset, eventsErased: result.eventsErased, ms: Date.now() - startedAt,
    });
    this.#consumed.set(partition, message.offset);
    this.#dirtySince ??= Date.now();
    await this.flush(); // commits the command's offset
    return true;
  }

  /** Back off (capped at 2 s) while staying in the group; false when the group is rebalancing. */
  async #pauseBriefly(failures: number, heartbeat: () => Promise<void>): Promise<boolean> {
    await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(failures, 5))));
    try {
      await heartbeat();
      return true;
    } catch (e) {
      if (!isRebalancing(e)) throw e;
      await this.flush();
      return false;
    }
  }

  #workCount(): number {
    return this.#registry.pendingCount + this.#deadLetters.length + (this.#retry === undefined ? 0 : this.#retry.entries.length + this.#retry.deadLetters.length) + this.#inFlight;
  }

  #tick(): void {
    const now = Date.now();
    const { config, metrics } = this.#d;
    metrics.pendingEvents.set(this.#workCount());
    metrics.liveActors.set(this.#registry.size);
    const due = this.#dirtySince !== undefined && now - this.#dirtySince >= config.flushIntervalMs;
    const retryDue = this.#retry !== undefined && now >= this.#retryAt;
    if ((due || retryDue) && this.#flushing === undefined) void this.flush();
    this.#live.tick(now);
    if (this.#flushing === undefined) {
      this.#resumeIfDrained();
      this.#registry.passivate(now);
    }
  }

  /** Flush everything pending now; concurrent calls share one flush loop. Never rejects. */
  flush(): Promise<void> {
    if (this.#flushing !== undefined) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    this.#flushing = this.#flushLoop().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushLoop(): Promise<void> {
    do {
      this.#flushAgain = false;
      const ok = await this.#flushOnce();
      if (!ok) return;
    } while (this.#flushAgain && this.#dirtySince !== undefined);
    this.#resumeIfDrained();
  }

  /** One flush attempt; false when it failed and was kept for a retry. */
  async #flushOnce(): Promise<boolean> {
    // The one synchronous step of the module rule: take events, dead letters and offsets together.
    const fresh = this.#registry.drain();
    const deadLetters = this.#deadLetters;
    this.#deadLetters = [];
    const offsets = new Map(this.#consumed);
    const generation = this.#generation;
    this.#dirtySince = undefined;
    const previous = this.#retry;
    this.#retry = undefined;
    const batch: Batch = previous
      ? { entries: previous.entries.concat(fresh), deadLetters: previous.deadLetters.concat(deadLetters), offsets }
      : { entries: fresh, deadLetters, offsets };
    if (batch.entries.length === 0 && batch.deadLetters.length === 0 && !this.#hasUncommitted(batch.offsets)) return true;
    this.#inFlight = batch.entries.length + batch.deadLetters.length;

    // The first traced event's span is the parent; the others are links (a link to the
    // parent too would make Jaeger show the parent as a mere FOLLOWS_FROM reference).
    const traced = batch.entries.filter((e) => e.meta.span !== undefined);
    const first = traced[0]?.meta.span;
    const links: Link[] = traced.slice(1, 1 + MAX_FLUSH_LINKS).map((e) => ({ context: e.meta.span! }));
    const parent = first === undefined ? context.active() : trace.setSpanContext(context.active(), first);
    const span = tracer().startSpan('keyflow flush', {
      kind: SpanKind.INTERNAL,
      links,
      attributes: { 'keyflow.flush.events': batch.entries.length, 'keyflow.flush.dead_letters': batch.deadLetters.length, 'keyflow.flush.links_dropped': Math.max(0, traced.length - 1 - links.length), 'keyflow.worker.id': this.#d.workerId },
    }, parent);
    // The store, commit and live update run inside the flush span, and so do their log lines.
    return context.with(trace.setSpan(parent, span), () => this.#storeCommitPublish(batch, generation, span));
  }

  async #storeCommitPublish(batch: Batch, generation: number, span: Span): Promise<boolean> {
    const { metrics, log, config } = this.#d;
    // Evidence for the live view's reconciler, should this process die before the live update.
    const liveToken = batch.entries.length > 0 ? await this.#live.begin() : undefined;
    const stopTimer = metrics.flushDuration.startTimer();
    let storeSeconds = 0;
    let inserted: Pending<Meta>[];
    try {
      const stored = await inSpan('INSERT events', {
        kind: SpanKind.CLIENT,
        attributes: { ...this.#pgAttributes, 'db.operation.name': 'INSERT', 'db.collection.name': 'events', 'db.query.summary': 'INSERT events', 'db.operation.batch.size': batch.entries.length + batch.deadLetters.length },
      }, () => storeBatch(this.#d, batch.entries, batch.deadLetters));
      inserted = batch.entries.filter((e) => stored.has(e.event));
      span.setAttribute('keyflow.flush.inserted', inserted.length);
    } catch (e) {
      this.#failures++;
      this.#retry = batch;
      // Exponential backoff with jitter, capped at 5 s, while consumption is held by backpressure.
      const backoff = backoffMs(this.#failures + 1, { baseMs: 100, maxMs: 5_000 });
      this.#retryAt = Date.now() + backoff;
      metrics.flushFailures.inc();
      log.warn('flush failed; will retry', { ...errorFields(e), events: batch.entries.length, failures: this.#failures, retryInMs: Math.round(backoff) });
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      span.end();
      return false;
    } finally {
      storeSeconds = stopTimer();
      this.#inFlight = 0; // stored, or kept in #retry
    }
    const storedAt = Date.now();
    metrics.flushBatchEvents.observe(batch.entries.length);
    for (const e of inserted) metrics.receiveToStore.observe(Math.max(0, storedAt - e.meta.receivedAtMs) / 1000);
    this.#failures = 0;
    this.#lastFlushAt = storedAt;
    this.#registry.markFlushed(inserted);
    metrics.eventsFlushed.inc(inserted.length);
    if (batch.entries.length > inserted.length) metrics.eventsDeduplicated.inc({ stage: 'store' }, batch.entries.length - inserted.length);
    await inSpan(`${config.topic} settle`, {
      kind: SpanKind.CLIENT,
      attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'settle', 'messaging.operation.name': 'commit', 'messaging.destination.name': config.topic, 'messaging.consumer.group.name': config.groupId },
    }, () => this.#commit(batch.offsets, generation));
    // The live update never rejects (it counts its own failures): Redis is a view.
    if (batch.entries.length > 0) {
      await inSpan(`PIPELINE ${config.redisPrefix}live`, {
        kind: SpanKind.CLIENT,
        attributes: { ...this.#redisAttributes, 'db.operation.name': 'PIPELINE', 'db.query.summary': 'live counters', 'keyflow.live.events': inserted.length },
      }, () => this.#live.commit(liveToken, inserted.map((e) => ({ event: e.event, partition: e.meta.partition, offset: e.meta.offset }))));
    }
    if (inserted.length > 0 && this.#d.onStored !== undefined) {
      const newest = new Map<number, number>();
      for (const e of inserted) if (e.event.occurredAt > (newest.get(e.meta.partition) ?? -Infinity)) newest.set(e.meta.partition, e.event.occurredAt);
      this.#d.onStored(newest);
    }
    log.debug('flushed', { events: batch.entries.length, inserted: inserted.length, deadLetters: batch.deadLetters.length, storeMs: Math.round(storeSeconds * 1000) });
    span.end();
    return true;
  }

  #hasUncommitted(offsets: ReadonlyMap<number, string>): boolean {
    for (const [p, o] of offsets) if (this.#committed.get(p) !== o) return true;
    return false;
  }

  async #commit(offsets: ReadonlyMap<number, string>, generation: number): Promise<void> {
    const topic = this.#d.config.topic;
    if (generation !== this.#generation) {
      // The generation fence: the group rebalanced after this flush took its offsets; the
      // rows are stored, and whoever owns the partitions now will replay and deduplicate.
      this.#d.metrics.offsetCommitsFenced.inc();
      this.#d.log.debug('offset commit fenced by a rebalance', { flushGeneration: generation, current: this.#generation });
      return;
    }
    const changed = [...offsets].filter(([p, o]) => this.#committed.get(p) !== o && this.#partitions.includes(p));
    if (changed.length === 0) return;
    try {
      await this.#consumer.commitOffsets(changed.map(([partition, o]) => ({ topic, partition, offset: (BigInt(o) + 1n).toString() })));
      for (const [p, o] of changed) this.#committed.set(p, o);
    } catch (e) {
      // The rows are stored: a lost commit only means a replay that the store deduplicates.
      this.#d.metrics.offsetCommitFailures.inc();
      this.#d.log.warn('offset commit failed', errorFields(e));
    }
  }

  /**
   * Stop consuming, then flush and commit what was taken, staying in the group so that the
   * other workers of this process are not rebalanced while they drain too. Idempotent.
   */
  drain(deadlineMs = 8_000): Promise<void> {
    this.#drained ??= this.#drain(deadlineMs);
    return this.#drained;
  }

  /** Drain if not yet drained, then leave the consumer group. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      try {
        await this.drain();
      } finally {
        this.#live.close();
        await this.#consumer.disconnect();
        if (this.#state === 'draining') this.#transition('stopped');
      }
    })();
    return this.#stopped;
  }

  async #drain(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    if (this.#state === 'starting' || this.#state === 'running') this.#transition('draining');
    clearInterval(this.#timer);
    try {
      this.#consumer.pause([{ topic: this.#d.config.topic }]);
      await this.#inBatch;
      while (Date.now() < until) {
        await this.flush();
        if (this.#retry === undefined && this.#dirtySince === undefined) break;
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(this.#retryAt - Date.now(), until - Date.now()))));
      }
      if (this.#retry !== undefined) this.#d.log.warn('drain deadline passed with unflushed events; they will be redelivered', { events: this.#retry.entries.length });
    } catch (e) {
      this.#state = 'failed';
      throw e;
    }
  }

  status(): WorkerStatus {
    return {
      workerId: this.#d.workerId,
      state: this.#state,
      partitions: this.#partitions,
      pendingEvents: this.#workCount(),
      liveActors: this.#registry.size,
      lastFlushAt: this.#lastFlushAt === null ? null : new Date(this.#lastFlushAt).toISOString(),
    };
  }

  actor(key: string): ActorLocation | undefined {
    const s = this.#registry.snapshot(key);
    if (s === undefined) return undefined;
    return { ...s, workerId: this.#d.workerId, partition: partitionOf(key, this.#d.partitionCount) };
  }
}
