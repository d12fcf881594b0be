// Stall detection (DESIGN.md, "No silent stop"). Rule: a partition is *stalled* when it has
// lag and its committed offset made no progress for KEYFLOW_STALL_MS while it was neither
// paused by backpressure nor waiting for PostgreSQL to come back; a partition without an owner
// for that long counts too. The clock of a partition restarts whenever its committed offset
// moves, its lag is 0, it is excused, or it changes owner (a new owner gets the whole window).
//
// Everything comes from Kafka's own view (the /v1/admin/lag reading: committed offsets, high
// watermarks, the group's owners) plus the workers' excuses (in-process statuses, or the
// Redis keys of ../worker/stall-excuse.ts for workers in other processes), so the rule holds
// in `keyflow all` and scaled out alike: every process answers for every partition.
import type { LagReport } from '../../http/index.ts';
import type { StallExcuse } from '../protocol.ts';

/** One stalled partition, as /readyz names it. */
export type StalledPartition = {
  readonly partition: number;
  readonly why: 'no-progress' | 'no-owner';
  readonly lag: number;
  readonly forMs: number;
};

type Seen = { committed: number | null; owner: string | null; clockFrom: number };

/** The pure rule: feed it observations, it says which partitions are stalled. */
export class StallDetector {
  readonly #stallMs: number;
  readonly #seen = new Map<number, Seen>();

  constructor(stallMs: number) {
    this.#stallMs = stallMs;
  }

  /**
   * One observation at `now`: the lag report and the excused partitions.
   *
   * @example
   * const stalled = detector.observe(await lag.read(), excuses, Date.now());
   */
  observe(report: Pick<LagReport, 'partitions'>, excused: ReadonlyMap<number, StallExcuse>, now: number): StalledPartition[] {
    const stalled: StalledPartition[] = [];
    const present = new Set<number>();
    for (const p of report.partitions) {
      present.add(p.partition);
      const owner = p.owner === null ? null : `${p.owner.process}#${p.owner.workerId}`;
      const prev = this.#seen.get(p.partition);
      const s: Seen = prev ?? { committed: p.committedOffset, owner, clockFrom: now };
      // A partition that has no owner keeps its clock running; any other reason restarts it.
      const ownerChanged = prev !== undefined && prev.owner !== owner;
      const progressed = prev !== undefined && prev.committed !== p.committedOffset;
      if (owner === null) {
        if (ownerChanged) s.clockFrom = now;
      } else if (ownerChanged || progressed || p.lag === 0 || excused.has(p.partition)) {
        s.clockFrom = now;
      }
      s.owner = owner;
      s.committed = p.committedOffset;
      this.#seen.set(p.partition, s);
      const forMs = now - s.clockFrom;
      if (forMs >= this.#stallMs) stalled.push({ partition: p.partition, why: owner === null ? 'no-owner' : 'no-progress', lag: p.lag, forMs });
    }
    for (const p of this.#seen.keys()) if (!present.has(p)) this.#seen.delete(p);
    return stalled;
  }

  /** Forget every clock: nothing was seen for a while (Kafka did not answer), so no stall is claimed across it. */
  forget(): void {
    this.#seen.clear();
  }
}

/** How stalled partitions read in /readyz: "partition 3 has no owner for 31 s; partition 5 has lag 120 and made no progress for 45 s". */
export function describeStalls(stalled: readonly StalledPartition[]): string {
  return stalled
    .map((s) => {
      const secs = Math.floor(s.forMs / 1000);
      return s.why === 'no-owner' ? `partition ${s.partition} stalled: no owner for ${secs} s (lag ${s.lag})` : `partition ${s.partition} stalled: lag ${s.lag} and no progress for ${secs} s`;
    })
    .join('; ');
}

export type StallMonitorOptions = {
  readonly stallMs: number;
  readonly lag: () => Promise<LagReport>;
  /** Partitions paused by backpressure or waiting for PostgreSQL, as their workers say. */
  readonly excuses: () => Promise<ReadonlyMap<number, StallExcuse>>;
  /** Told after each observation (the gauge). */
  readonly onObserved?: (partitions: readonly number[], stalled: readonly StalledPartition[]) => void;
  /** Told when an observation could not be made (Kafka did not answer). */
  readonly onError?: (error: unknown) => void;
};

/** Observes the partitions every few seconds and answers the readiness check from the last observation. */
export class StallMonitor {
  readonly #o: StallMonitorOptions;
  readonly #detector: StallDetector;
  #stalled: readonly StalledPartition[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: StallMonitorOptions) {
    this.#o = options;
    this.#detector = new StallDetector(options.stallMs);
  }

  /** Observe now and then every stallMs/4 (between 0.25 and 5 s). */
  start(): void {
    if (this.#timer !== undefined) return;
    const every = Math.max(250, Math.min(5_000, Math.floor(this.#o.stallMs / 4)));
    void this.observe();
    this.#timer = setInterval(() => void this.observe(), every);
    this.#timer.unref();
  }

  /** One observation; concurrent calls share it. Never rejects. */
  observe(): Promise<void> {
    this.#running ??= (async () => {
      try {
        const [report, excused] = await Promise.all([this.#o.lag(), this.#o.excuses().catch(() => new Map<number, StallExcuse>())]);
        this.#stalled = this.#detector.observe(report, excused, Date.now());
        this.#o.onObserved?.(report.partitions.map((p) => p.partition), this.#stalled);
      } catch (e) {
        // Kafka not answering is the kafka check's to report; the window starts again once it answers.
        this.#detector.forget();
        this.#stalled = [];
        this.#o.onError?.(e);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** The stalled partitions of the last observation. */
  get stalled(): readonly StalledPartition[] {
    return this.#stalled;
  }

  /** The readiness check: not ok while any partition is stalled, naming each. */
  check(): { ok: boolean; detail: string } {
    const s = this.#stalled;
    return s.length === 0 ? { ok: true, detail: 'no partition stalled' } : { ok: false, detail: describeStalls(s) };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
