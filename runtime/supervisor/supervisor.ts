// The supervisor: spawns KEYFLOW_WORKERS worker threads, replaces one that exits with
// exponential backoff and jitter, and drains them all on shutdown.
//
// Rule: an ask to a worker always settles — it resolves with the answer, or rejects when
// the worker exits or does not answer in time; a dead worker never leaves a caller hanging.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { releaseProxy, wrap, type Remote } from 'comlink';
import nodeEndpoint, { type NodeEndpoint } from 'comlink/dist/esm/node-adapter.mjs';
import type { KeyflowMetrics, MetricsSnapshot } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { errorFields, type Logger } from '../log/index.ts';
import { deserializeError, type ActorLocation, type LifecycleState, type WorkerApi, type WorkerEvent, type WorkerInit, type WorkerStatus } from '../protocol.ts';
import { spawnWorkerThread } from '../worker/index.ts';

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
};

export type SupervisorOptions = {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: KeyflowMetrics;
  /** Called when the supervisor gives up; the process should exit non-zero. */
  readonly onFatal: (error: Error) => void;
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
  readonly askTimeoutMs?: number;
};

/** Spawns, watches and drains the worker threads of this process. */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #slots: Slot[] = [];
  #state: LifecycleState = 'starting';
  #drained: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Spawn every worker and wait until each has joined the consumer group. */
  async start(): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let id = 0; id < this.#o.config.workers; id++) {
      const slot: Slot = { id, thread: undefined, api: undefined, port: undefined, state: 'starting', exited: new Promise<never>(() => undefined), restarts: [], attempt: 0 };
      this.#slots.push(slot);
      ready.push(this.#spawn(slot));
    }
    await Promise.all(ready);
    this.#state = 'running';
  }

  #spawn(slot: Slot): Promise<void> {
    const { config, log } = this.#o;
    const channel = new MessageChannel();
    const init: WorkerInit = { workerId: slot.id, config, askPort: channel.port2 };
    const thread = spawnWorkerThread(init, [channel.port2]);
    slot.thread = thread;
    slot.port = channel.port1;
    slot.api = wrap<WorkerApi>(nodeEndpoint(channel.port1 as unknown as NodeEndpoint));
    slot.state = 'starting';
    let rejectExit: (e: Error) => void = () => undefined;
    slot.exited = new Promise<never>((_, reject) => {
      rejectExit = reject;
    });
    slot.exited.catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      thread.on('message', (m: WorkerEvent) => {
        if (m.type === 'ready') {
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
        reject(new WorkerUnavailableError(`worker ${slot.id} exited with code ${code} before it was ready`));
        if (this.#state === 'draining' || this.#state === 'stopped' || slot.state === 'stopped') {
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
    const maxRestarts = this.#o.maxRestarts ?? 5;
    const windowMs = this.#o.restartWindowMs ?? 60_000;
    const now = Date.now();
    slot.restarts = slot.restarts.filter((t) => now - t < windowMs);
    slot.restarts.push(now);
    if (slot.restarts.length > maxRestarts) {
      this.#state = 'failed';
      this.#o.onFatal(new RestartLimitError(`worker ${slot.id} restarted more than ${maxRestarts} times within ${windowMs} ms; giving up`));
      return;
    }
    slot.attempt++;
    const delay = Math.min(10_000, 100 * 2 ** (slot.attempt - 1)) * (0.5 + Math.random());
    log.warn('worker exited; restarting', { workerId: slot.id, code, inMs: Math.round(delay) });
    metrics.workerRestarts.inc();
    setTimeout(() => {
      if (this.#state !== 'running' && this.#state !== 'starting') return;
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

  /** The live actor of `key`, wherever it lives in this process. */
  async actor(key: string): Promise<ActorLocation | undefined> {
    const all = await Promise.allSettled(this.#slots.map((slot) => this.#ask(slot, (api) => api.actor(key))));
    for (const r of all) if (r.status === 'fulfilled' && r.value !== undefined) return r.value;
    return undefined;
  }

  /** True when every worker is running. */
  healthy(): { ok: boolean; detail: string } {
    const running = this.#slots.filter((s) => s.state === 'running').length;
    return { ok: this.#state === 'running' && running === this.#slots.length, detail: `${running}/${this.#slots.length} workers running (supervisor ${this.#state})` };
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
    this.#state = 'draining';
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
    this.#state = 'stopped';
  }
}
