// The supervisor ↔ worker protocol: types only. Asks (request/response) go through a
// comlink proxy on a dedicated MessagePort; the worker's parentPort carries plain
// lifecycle messages. Errors cross the boundary as plain data and are rebuilt.
import type { ActorSnapshot } from '../actors/index.ts';
import type { MetricsSnapshot } from '../otel/index.ts';
import type { Config } from './config/index.ts';
import type { MessagePort } from 'node:worker_threads';

/** Lifecycle of a worker or of the supervisor. Illegal transitions throw. */
export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** What a worker thread is started with. */
export type WorkerInit = {
  readonly workerId: number;
  readonly config: Config;
  /** The port comlink asks arrive on. */
  readonly askPort: MessagePort;
  /** Where this process answers internal asks (recorded with the partition assignment). */
  readonly advertiseUrl: string;
  /** Partitions of the events topic. */
  readonly partitionCount: number;
};

/** An error as it crosses a thread. */
export type SerializedError = { readonly name: string; readonly message: string; readonly stack?: string; readonly code?: string };

/** Plain messages from a worker to the supervisor. */
export type WorkerEvent =
  | { readonly type: 'ready'; readonly workerId: number }
  | { readonly type: 'heartbeat'; readonly workerId: number; readonly at: number }
  | { readonly type: 'assigned'; readonly workerId: number; readonly partitions: readonly number[] }
  | { readonly type: 'fatal'; readonly workerId: number; readonly error: SerializedError }
  /** The worker's Kafka consumer crashed and was restarted (by kafkajs, or by the worker when kafkajs gave up). */
  | { readonly type: 'consumer-restarted'; readonly workerId: number; readonly by: 'kafkajs' | 'keyflow' };

/** Why a worker's partitions may make no progress without being stalled (DESIGN.md, "No silent stop"). */
export type StallExcuse = 'paused' | 'postgres';

/** A worker's live status. */
export type WorkerStatus = {
  readonly workerId: number;
  readonly state: LifecycleState;
  readonly partitions: readonly number[];
  readonly pendingEvents: number;
  readonly liveActors: number;
  readonly lastFlushAt: string | null;
  /** Set while its partitions are paused by backpressure or wait for PostgreSQL to come back. */
  readonly stallExcuse?: StallExcuse;
};

/** Where an actor lives, with its state. */
export type ActorLocation = ActorSnapshot & { readonly workerId: number; readonly partition: number };

/** Injected failures, for tests; a worker refuses them unless KEYFLOW_FAULTS=1. */
export type FaultKind = 'exit' | 'throw' | 'hang' | 'consumer-crash';

/** The asks a worker answers (exposed with comlink). */
export interface WorkerApi {
  status(): WorkerStatus;
  metrics(): Promise<MetricsSnapshot>;
  actor(key: string): ActorLocation | undefined;
  /** Stop consuming, flush and commit everything taken so far; stay in the group. Idempotent. */
  drain(): Promise<void>;
  /** Leave the consumer group and close every connection. Idempotent. */
  stop(): Promise<void>;
  /** Fail on purpose (only with KEYFLOW_FAULTS=1); `count`: how many batches a consumer crash lasts. */
  fault(kind: FaultKind, count?: number): void;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}), ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(e) };
}

export function deserializeError(s: SerializedError): Error {
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  if (s.code !== undefined) (e as Error & { code: string }).code = s.code;
  return e;
}
