// Restarts a worker's Kafka consumer that kafkajs gave up on (DESIGN.md, "No silent stop").
// Rule: whatever error a consumer meets, consumption does not end for good. kafkajs restarts
// its consumer itself after a retriable error; after a non-retriable one (a crash with
// `restart: false`, e.g. KafkaJSNotImplemented for a codec it lacks) it disconnects and stops
// for good — then this module starts it again, after a backoff that grows with each restart
// that did not lead to a processed batch (1 s doubling, capped at 30 s, with jitter), and keeps
// trying while the worker runs. Every restart is reported, so it is counted.
import { backoffMs, type Backoff } from '../backoff.ts';

/** A consumer restart waits 0.5–1 s, then up to 15–30 s while it keeps failing. */
export const CONSUMER_RESTART_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 30_000 };

export type ConsumerRestartOptions = {
  /** Connect, subscribe and run the consumer again; rejects when it could not. */
  readonly start: () => Promise<void>;
  /** False once the worker drains or stops: no restart is scheduled any more. */
  readonly live: () => boolean;
  /** Told before each attempt, with how long it waited. */
  readonly onRestart: (attempt: number, waitedMs: number) => void;
  /** Told of an attempt that failed (another one follows). */
  readonly onFailed: (error: unknown, attempt: number) => void;
  readonly backoff?: Backoff;
};

/** Schedules restarts of one consumer with backoff. */
export class ConsumerRestarter {
  readonly #o: ConsumerRestartOptions;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #starting = false;
  #crashedMeanwhile = false;

  constructor(options: ConsumerRestartOptions) {
    this.#o = options;
  }

  /** True while a restart is scheduled or under way. */
  get restarting(): boolean {
    return this.#timer !== undefined || this.#starting;
  }

  /** kafkajs gave up on the consumer: start it again after the backoff. */
  crashed(): void {
    if (this.#stopped || !this.#o.live()) return;
    // A crash while a restart is under way is that restart's: it schedules the next one when it ends.
    if (this.#timer !== undefined || this.#starting) {
      this.#crashedMeanwhile = true;
      return;
    }
    this.#attempt++;
    const attempt = this.#attempt;
    const waitMs = backoffMs(attempt, this.#o.backoff ?? CONSUMER_RESTART_BACKOFF);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped || !this.#o.live()) return;
      this.#starting = true;
      this.#crashedMeanwhile = false;
      this.#o.onRestart(attempt, waitMs);
      this.#o.start().then(
        () => this.#started(),
        (e: unknown) => {
          this.#o.onFailed(e, attempt);
          this.#crashedMeanwhile = true;
          this.#started();
        },
      );
    }, waitMs);
  }

  #started(): void {
    this.#starting = false;
    if (this.#crashedMeanwhile) {
      this.#crashedMeanwhile = false;
      this.crashed();
    }
  }

  /** The consumer processed a batch: the next crash starts from the shortest backoff again. */
  progressed(): void {
    this.#attempt = 0;
  }

  /** No restart after this (the worker stops). Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
