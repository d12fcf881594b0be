// The supervisor: spawns KEYFLOW_WORKERS worker threads, replaces one that throws, exits or
// stops sending heartbeats — with exponential backoff and jitter — and gives up (the process
// exits non-zero) after more than KEYFLOW_MAX_RESTARTS restarts of one worker within
// KEYFLOW_RESTART_WINDOW_MS. It drains them all on shutdown.
//
// Rule: an ask to a worker always settles — it resolves with the answer, or rejects when
// the worker exits or does not answer in time; a dead worker never leaves a caller hanging.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { releaseProxy, wrap, type Remote } from 'comlink';
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';
import type { KeyflowMetrics, MetricsSnapshot } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import { deserializeError, type ActorLocation, type FaultKind, type LifecycleState, type WorkerApi, type WorkerEvent, type WorkerInit, type WorkerStatus } from '../protocol.ts';
import { spawnWorkerThread } from '../worker/index.ts';
import { Lifecycle, TRANSITIONS, type Transitions } from '../lifecycle.ts';
import { backoffMs } from '../backoff.ts';

/** A crashed worker thread is restarted after 50–100 ms, then up to 5–10 s. */
const RESTART_BACKOFF = { baseMs: 100, maxMs: 10_000 } as const;

/** A worker did not answer an ask: it exited, or it took too long. */
export class WorkerUnavailableError extends Error {
  override readonly name = 'WorkerUnavailableError';
  readonly code = 'KEYFLOW_WORKER_UNAVAILABLE';
}

/** Too many restarts in the restart window: the process should end. */
export class RestartLimitError extends Error {
  override readonly name = 'RestartLimitError';
  readonly code = 'KEYFLOW_RESTART_LIMIT';
}

type Slot = {
  readonly id: number;
  thread: Worker | undefined;
  api: Remote<WorkerApi> | undefined;
  port: MessagePort | undefined;
  state: LifecycleState;
  /** Rejects every ask in flight when the thread exits. */
  exited: Promise<never>;
  restarts: number[];
  attempt: number;
  lastHeartbeatAt: number;
  /** False until the thread's first heartbeat: loading its modules is not a hang. */
  beating: boolean;
  partitions: readonly number[];
};

/** How long a new thread may take to send its first heartbeat. */
const FIRST_HEARTBEAT_TIMEOUT_MS = 60_000;

/** A supervisor that gave up (the restart limit) still drains its workers on shutdown. */
const SUPERVISOR_TRANSITIONS: Transitions = { ...TRANSITIONS, failed: ['draining'] };

export type SupervisorOptions = {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: KeyflowMetrics;
  /** Called when the supervisor gives up; the process should exit non-zero. */
  readonly onFatal: (error: Error) => void;
  readonly askTimeoutMs?: number;
};

/** Spawns, watches and drains the worker threads of this process. */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #slots: Slot[] = [];
  readonly #life = new Lifecycle('supervisor', SUPERVISOR_TRANSITIONS);
  #drained: Promise<void> | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #placement = { advertiseUrl: '', partitionCount: 1 };

  constructor(options: SupervisorOptions) {
    this.#o = options;
    for (const by of ['kafkajs', 'keyflow'] as const) options.metrics.consumerRestarts.inc({ by }, 0);
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /**
   * Spawn every worker and wait until each has joined the consumer group. `advertiseUrl` is
   * where this process answers internal asks; `partitionCount` the events topic's size.
   */
  async start(placement: { readonly advertiseUrl: string; readonly partitionCount: number }): Promise<void> {
    this.#placement = { ...placement };
    const ready: Promise<void>[] = [];
    for (let id = 0; id < this.#o.config.workers; id++) {
      const slot: Slot = { id, thread: undefined, api: undefined, port: undefined, state: 'starting', exited: new Promise<never>(() => undefined), restarts: [], attempt: 0, lastHeartbeatAt: Date.now(), beating: false, partitions: [] };
      this.#slots.push(slot);
      ready.push(this.#spawn(slot));
    }
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), Math.max(100, Math.floor(this.#o.config.heartbeatTimeoutMs / 5)));
    this.#watchdog.unref();
    await Promise.all(ready);
    if (this.#life.state === 'starting') this.#life.to('running');
  }

  /** A thread that has not sent a heartbeat within the timeout is stuck: replace it. */
  #checkHeartbeats(): void {
    const now = Date.now();
    for (const slot of this.#slots) {
      if (slot.thread === undefined || slot.state === 'stopped' || slot.state === 'failed') continue;
      const silentMs = now - slot.lastHeartbeatAt;
      if (silentMs <= (slot.beating ? this.#o.config.heartbeatTimeoutMs : FIRST_HEARTBEAT_TIMEOUT_MS)) continue;
      this.#o.log.error('worker stopped sending heartbeats; replacing it', { workerId: slot.id, silentMs });
      slot.lastHeartbeatAt = now; // one termination per silence
      void slot.thread.terminate();
    }
  }

  #spawn(slot: Slot): Promise<void> {
    const { config, log } = this.#o;
    const channel = new MessageChannel();
    const init: WorkerInit = { workerId: slot.id, config, askPort: channel.port2, ...this.#placement };
    // A bounded heap makes V8 collect before RSS grows without need; a worker that still runs
    // out is replaced like any crashed one, and its uncommitted work is replayed.
    const thread = spawnWorkerThread(init, [channel.port2], { maxOldGenerationSizeMb: config.workerHeapMb });
    slot.thread = thread;
    slot.port = channel.port1;
    slot.api = wrap<WorkerApi>(nodeEndpoint(channel.port1 as unknown as NodeEndpoint));
    slot.state = 'starting';
    slot.lastHeartbeatAt = Date.now();
    slot.beating = false;
    let rejectExit: (e: Error) => void = () => undefined;
    slot.exited = new Promise<never>((_, reject) => {
      rejectExit = reject;
    });
    slot.exited.catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      thread.on('message', (m: WorkerEvent) => {
        if (m.type === 'heartbeat') {
          slot.lastHeartbeatAt = Date.now();
          slot.beating = true;
        } else if (m.type === 'assigned') {
          // Another worker of this process may have had these partitions until now.
          for (const other of this.#slots) if (other !== slot) other.partitions = other.partitions.filter((p) => !m.partitions.includes(p));
          slot.partitions = m.partitions;
        } else if (m.type === 'consumer-restarted') {
          // Counted here, on the main thread: a worker thread's own counters end with it.
          this.#o.metrics.consumerRestarts.inc({ by: m.by });
        } else if (m.type === 'ready') {
          slot.state = 'running';
          slot.attempt = 0;
          log.info('worker running', { workerId: slot.id });
          resolve();
        } else if (m.type === 'fatal') {
          const e = deserializeError(m.error);
          log.error('worker reported a fatal error', { workerId: slot.id, ...errorFields(e) });
          reject(e);
          void thread.terminate();
        }
      });
      thread.on('error', (e) => {
        log.error('worker thread threw', { workerId: slot.id, ...errorFields(e) });
        reject(e);
      });
      thread.on('exit', (code) => {
        rejectExit(new WorkerUnavailableError(`worker ${slot.id} exited with code ${code}`));
        slot.port?.close();
        slot.api = undefined;
        slot.thread = undefined;
        slot.partitions = [];
        reject(new WorkerUnavailableError(`worker ${slot.id} exited with code ${code} before it was ready`));
        if (this.#life.state === 'draining' || this.#life.state === 'stopped' || slot.state === 'stopped') {
          slot.state = 'stopped';
          return;
        }
        slot.state = 'failed';
        this.#restart(slot, code);
      });
    });
  }

  #restart(slot: Slot, code: number): void {
    const { log, metrics } = this.#o;
    const maxRestarts = this.#o.config.maxRestarts;
    const windowMs = this.#o.config.restartWindowMs;
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => now - t < windowMs);
    slot.restarts.push(now);
    if (slot.restarts.length > maxRestarts) {
      clearInterval(this.#watchdog);
      this.#life.to('failed');
      this.#o.onFatal(new RestartLimitError(`worker ${slot.id} restarted more than ${maxRestarts} times within ${windowMs} ms; giving up`));
      return;
    }
    slot.attempt++;
    const delay = backoffMs(slot.attempt, RESTART_BACKOFF);
    log.warn('worker exited; restarting', { workerId: slot.id, code, inMs: Math.round(delay) });
    metrics.workerRestarts.inc();
    setTimeout(() => {
      if (this.#life.state !== 'running' && this.#life.state !== 'starting') return;
      this.#spawn(slot).catch((e: unknown) => log.error('worker restart failed', { workerId: slot.id, ...errorFields(e) }));
    }, delay).unref();
  }

  /** Ask one worker; rejects when it exits or does not answer within the ask timeout. */
  async #ask<T>(slot: Slot, fn: (api: Remote<WorkerApi>) => Promise<T>, timeoutMs = this.#o.askTimeoutMs ?? 2_000): Promise<T> {
    const api = slot.api;
    if (api === undefined || slot.state !== 'running') throw new WorkerUnavailableError(`worker ${slot.id} is ${slot.state}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WorkerUnavailableError(`worker ${slot.id} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([fn(api), slot.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The status of every worker that answers; missing ones are reported as their slot state. */
  async statuses(): Promise<WorkerStatus[]> {
    return Promise.all(
      this.#slots.map((slot) =>
        this.#ask(slot, (api) => api.status()).catch(
          (): WorkerStatus => ({ workerId: slot.id, state: slot.state, partitions: [], pendingEvents: 0, liveActors: 0, lastFlushAt: null }),
        ),
      ),
    );
  }

  /** Every running worker's metrics. */
  async metrics(): Promise<MetricsSnapshot[]> {
    const all = await Promise.allSettled(this.#slots.map((slot) => this.#ask(slot, (api) => api.metrics())));
    return all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  }

  /** True when one of this process's workers owns `partition`. */
  owns(partition: number): boolean {
    return this.#slots.some((s) => s.partitions.includes(partition));
  }

  /** The live actor of `key` in the worker that owns `partition`, if that worker is here. */
  async actor(key: string, partition: number): Promise<ActorLocation | undefined> {
    const slot = this.#slots.find((s) => s.partitions.includes(partition));
    return slot === undefined ? undefined : this.#ask(slot, (api) => api.actor(key));
  }

  /** Make one worker fail on purpose (KEYFLOW_FAULTS=1 only). */
  async fault(workerId: number, kind: FaultKind, count?: number): Promise<void> {
    const slot = this.#slots[workerId];
    if (slot === undefined) throw new WorkerUnavailableError(`no worker ${workerId}`);
    await this.#ask(slot, (api) => api.fault(kind, count));
  }

  /** Every worker's state, as /readyz reports it. */
  workerStates(): { workerId: number; state: LifecycleState }[] {
    return this.#slots.map((s) => ({ workerId: s.id, state: s.state }));
  }

  /** True when every worker is running. */
  healthy(): { ok: boolean; detail: string } {
    const running = this.#slots.filter((s) => s.state === 'running').length;
    return { ok: this.#life.state === 'running' && running === this.#slots.length, detail: `${running}/${this.#slots.length} workers running (supervisor ${this.#life.state})` };
  }

  /**
   * Drain every worker (flush, commit), then make them all leave the group and end the
   * threads. Two phases, so no worker is rebalanced while another is still flushing.
   * Idempotent.
   */
  drain(): Promise<void> {
    this.#drained ??= this.#drain();
    return this.#drained;
  }

  async #drain(): Promise<void> {
    clearInterval(this.#watchdog);
    this.#life.to('draining');
    const timeoutMs = this.#o.config.shutdownTimeoutMs;
    const phase = (name: 'drain' | 'stop') =>
      Promise.all(
        this.#slots.map(async (slot) => {
          try {
            if (slot.state === 'running') await this.#ask(slot, (api) => api[name](), timeoutMs);
          } catch (e) {
            this.#o.log.warn(`worker did not ${name} cleanly`, { workerId: slot.id, ...errorFields(e) });
          }
        }),
      );
    await phase('drain');
    await phase('stop');
    await Promise.all(
      this.#slots.map(async (slot) => {
        slot.state = 'stopped';
        slot.api?.[releaseProxy]();
        slot.port?.close();
        await slot.thread?.terminate();
      }),
    );
    this.#life.to('stopped');
  }

  /** `await using supervisor = new Supervisor(…)`: every worker drained and ended at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain();
  }
}
