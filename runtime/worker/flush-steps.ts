// The steps of one flush in keyflow's stores: the flusher's store and settle (./flusher.ts).
// Rule: the rows go first, in one transaction (./store-batch.ts); only once it committed are
// the offsets committed — through the ledger's generation fence (./offset-ledger.ts) — and
// the live view updated, which never rejects (Redis is a view). A lost offset commit only
// means a replay that the store deduplicates. Each attempt is one flush span (./spans.ts):
// the store, the offset commit and the live update are client spans inside it, and so are
// their log lines, a failed attempt's included.
import { SpanKind, SpanStatusCode, context, type Attributes } from '@opentelemetry/api';
import type { Pending } from '../../actors/index.ts';
import type { Sql } from '../../db/index.ts';
import { inSpan, postgresAttributes, redisAttributes, type KeyflowMetrics } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import type { FlushBatch, RetryInfo } from './flusher.ts';
import type { LiveWriter } from './live-counters.ts';
import type { OffsetCommit, OffsetLedger, TakenOffsets } from './offset-ledger.ts';
import { startFlushSpan, type FlushSpan } from './spans.ts';
import { storeBatch, type Meta } from './store-batch.ts';

export type FlushStepsDeps = {
  readonly workerId: number;
  readonly config: Pick<Config, 'topic' | 'groupId' | 'redisPrefix' | 'databaseUrl' | 'redisUrl' | 'flushMaxBytes'>;
  readonly sql: Sql;
  readonly log: Logger;
  readonly metrics: KeyflowMetrics;
  readonly live: LiveWriter;
  /** Told which pending events were stored (the actor registry's counts). */
  readonly registry: { markFlushed(flushed: readonly Pending<Meta>[]): void };
  readonly ledger: OffsetLedger;
  /** Commit offsets of the topic to Kafka (the consumer's commitOffsets). */
  readonly commitOffsets: (offsets: readonly OffsetCommit[]) => Promise<void>;
  /** Told, after each flush that stored events, the newest occurredAt it stored per partition. */
  readonly onStored?: ((newestByPartition: ReadonlyMap<number, number>) => void) | undefined;
};

/** What the store step hands to the settle step. */
export type Stored = { readonly inserted: Pending<Meta>[]; readonly liveToken: string | undefined; readonly storeSeconds: number };

/** One worker's flush steps; give `store`, `settle` and `failed` to its Flusher. */
export class FlushSteps {
  readonly #d: FlushStepsDeps;
  readonly #pgAttributes: Attributes;
  readonly #redisAttributes: Attributes;
  /** The span of the attempt under way (flushes never overlap). */
  #span: FlushSpan | undefined;
  #lastFlushAt: number | null = null;

  constructor(deps: FlushStepsDeps) {
    this.#d = deps;
    this.#pgAttributes = postgresAttributes(deps.config.databaseUrl);
    this.#redisAttributes = redisAttributes(deps.config.redisUrl);
  }

  /** When the last flush stored its rows, epoch ms. */
  get lastFlushAt(): number | null {
    return this.#lastFlushAt;
  }

  /** The flush transaction, inside a new attempt's span. Rejects when the rows were not stored. */
  store(batch: FlushBatch<Pending<Meta>>): Promise<Stored> {
    const { metrics } = this.#d;
    const attempt = (this.#span = startFlushSpan(batch.entries, batch.deadLetters.length, this.#d.workerId));
    return context.with(attempt.context, async () => {
      // Evidence for the live view's reconciler, should this process die before the live update.
      const liveToken = batch.entries.length > 0 ? await this.#d.live.begin() : undefined;
      const stopTimer = metrics.flushDuration.startTimer();
      let storeSeconds = 0;
      let inserted: Pending<Meta>[];
      try {
        const stored = await inSpan('INSERT events', {
          kind: SpanKind.CLIENT,
          attributes: { ...this.#pgAttributes, 'db.operation.name': 'INSERT', 'db.collection.name': 'events', 'db.query.summary': 'INSERT events', 'db.operation.batch.size': batch.entries.length + batch.deadLetters.length },
        }, () => storeBatch(this.#d, batch.entries, batch.deadLetters));
        inserted = batch.entries.filter((e) => stored.has(e.event));
        attempt.span.setAttribute('keyflow.flush.inserted', inserted.length);
      } finally {
        storeSeconds = stopTimer();
      }
      return { inserted, liveToken, storeSeconds };
    });
  }

  /** A failed store, told inside its attempt's span, which ends failed. */
  failed(e: unknown, retry: RetryInfo): void {
    const attempt = this.#span;
    const report = (): void => {
      this.#d.metrics.flushFailures.inc();
      this.#d.log.warn('flush failed; will retry', { ...errorFields(e), events: retry.events, failures: retry.failures, retryInMs: Math.round(retry.retryInMs) });
    };
    if (attempt === undefined) return report();
    context.with(attempt.context, report);
    attempt.span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    attempt.span.end();
  }

  /** After the rows are stored: metrics, the offset commit, the live view, the stored-time watermarks. */
  settle(batch: FlushBatch<Pending<Meta>>, { inserted, liveToken, storeSeconds }: Stored): Promise<void> {
    const { metrics, log, config } = this.#d;
    const attempt = this.#span!;
    return context.with(attempt.context, async () => {
      const storedAt = Date.now();
      metrics.flushBatchEvents.observe(batch.entries.length);
      for (const e of inserted) metrics.receiveToStore.observe(Math.max(0, storedAt - e.meta.receivedAtMs) / 1000);
      this.#lastFlushAt = storedAt;
      this.#d.registry.markFlushed(inserted);
      metrics.eventsFlushed.inc(inserted.length);
      if (batch.entries.length > inserted.length) metrics.eventsDeduplicated.inc({ stage: 'store' }, batch.entries.length - inserted.length);
      await inSpan(`${config.topic} settle`, {
        kind: SpanKind.CLIENT,
        attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'settle', 'messaging.operation.name': 'commit', 'messaging.destination.name': config.topic, 'messaging.consumer.group.name': config.groupId },
      }, () => this.#commit(batch.offsets));
      if (batch.entries.length > 0) {
        await inSpan(`PIPELINE ${config.redisPrefix}live`, {
          kind: SpanKind.CLIENT,
          attributes: { ...this.#redisAttributes, 'db.operation.name': 'PIPELINE', 'db.query.summary': 'live counters', 'keyflow.live.events': inserted.length },
        }, () => this.#d.live.commit(liveToken, inserted.map((e) => ({ event: e.event, partition: e.meta.partition, offset: e.meta.offset }))));
      }
      if (inserted.length > 0 && this.#d.onStored !== undefined) {
        const newest = new Map<number, number>();
        for (const e of inserted) if (e.event.occurredAt > (newest.get(e.meta.partition) ?? -Infinity)) newest.set(e.meta.partition, e.event.occurredAt);
        this.#d.onStored(newest);
      }
      log.debug('flushed', { events: batch.entries.length, inserted: inserted.length, deadLetters: batch.deadLetters.length, storeMs: Math.round(storeSeconds * 1000) });
      attempt.span.end();
    });
  }

  async #commit(taken: TakenOffsets): Promise<void> {
    const { metrics, log } = this.#d;
    try {
      const outcome = await this.#d.ledger.commit(taken, this.#d.commitOffsets);
      if (outcome.kind === 'fenced') {
        // The rows are stored, and whoever owns the partitions now will replay and deduplicate.
        metrics.offsetCommitsFenced.inc();
        log.debug('offset commit fenced by a rebalance', { flushGeneration: outcome.flushGeneration, current: outcome.current });
      }
    } catch (e) {
      metrics.offsetCommitFailures.inc();
      log.warn('offset commit failed', errorFields(e));
    }
  }
}
