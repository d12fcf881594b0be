// The keyflow client: batches events, retries what can succeed later, and reads every route.
// Rule: an event's identity (id, occurredAt) is fixed when send() takes it — an id is made
// when the producer gave none, occurredAt is the moment of send() when absent — so every
// retry resends the same event and keyflow stores it once. send() resolves once keyflow
// accepted the event (Kafka acknowledged it) and rejects only when keyflow refused it or
// retrying gave up; close() sends what is queued and waits for every answer.
import type { EventInput } from '../../actors/index.ts';
import { KeyflowEventRejectedError, KeyflowUnavailableError } from './errors.ts';
import { call, type TransportOptions } from './transport.ts';
import { uuidv7 } from './uuid.ts';

export type ClientOptions = TransportOptions & {
  /** Events per POST /v1/events (default 500, at most 1000). */
  readonly batchSize?: number;
  /** Longest wait for a batch to fill, ms (default 20). */
  readonly lingerMs?: number;
  /** Batches in flight at once (default 4). */
  readonly concurrency?: number;
};

/** An event as send() takes it: id and occurredAt may be left out. */
export type SendableEvent = Omit<EventInput, 'id' | 'occurredAt'> & { id?: string; occurredAt?: string | number };

/** What send() resolves to for one event. */
export type SendResult = { readonly id: string; readonly occurredAt: string | number };

type Pending = { readonly event: EventInput; readonly resolve: (r: SendResult) => void; readonly reject: (e: unknown) => void };
type IngestAnswer = { accepted: number; ids: string[]; rejected: { index: number; errors: { path: string; message: string }[] }[] };

/** Sends events to keyflow in batches, with retries. */
export class EventSender {
  readonly #o: ClientOptions;
  readonly #batchSize: number;
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #slots: (() => void)[] = [];
  #active = 0;
  #closed: Promise<void> | undefined;

  constructor(options: ClientOptions) {
    this.#o = options;
    this.#batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 500));
  }

  /**
   * Queue one event; resolves with its identity once keyflow accepted it.
   *
   * @example
   * const { id } = await client.send({ type: 'page.view', source: 'web', userId: 'u-1' });
   */
  send(event: SendableEvent): Promise<SendResult> {
    if (this.#closed !== undefined) return Promise.reject(new KeyflowUnavailableError('the client is closed'));
    const fixed = { ...event, id: event.id ?? uuidv7(), occurredAt: event.occurredAt ?? new Date().toISOString() } as EventInput;
    return new Promise<SendResult>((resolve, reject) => {
      this.#queue.push({ event: fixed, resolve, reject });
      if (this.#queue.length >= this.#batchSize) this.#dispatch();
      else this.#timer ??= setTimeout(() => this.#dispatch(), this.#o.lingerMs ?? 20);
    });
  }

  /** Queue many events; resolves once all were accepted (rejects on the first refusal). */
  sendAll(events: Iterable<SendableEvent>): Promise<SendResult[]> {
    return Promise.all([...events].map((e) => this.send(e)));
  }

  /** Send everything queued now, without waiting for the linger time. */
  flush(): Promise<void> {
    while (this.#queue.length > 0) this.#dispatch();
    return Promise.all([...this.#inFlight]).then(() => undefined);
  }

  /** Send what is queued, wait for every answer, refuse new events. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.flush();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #dispatch(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#batchSize);
    if (this.#queue.length > 0) this.#timer = setTimeout(() => this.#dispatch(), 0);
    const run = this.#send(batch).finally(() => {
      this.#inFlight.delete(run);
    });
    this.#inFlight.add(run);
  }

  async #send(batch: Pending[]): Promise<void> {
    // Bounded concurrency: wait for a slot before the request (the batch is already taken).
    while (this.#active >= (this.#o.concurrency ?? 4)) await new Promise<void>((r) => this.#slots.push(r));
    this.#active++;
    const body = JSON.stringify({ events: batch.map((p) => p.event) });
    try {
      // 400 "none valid" carries the per-event errors too: it is an answer, not a failure.
      const a = await call(this.#o, 'POST', '/v1/events', {
        body: () => body,
        headers: { 'content-type': 'application/json' },
        accept: (s) => s === 202 || s === 400,
      });
      const answer = a.body as Partial<IngestAnswer> | string;
      if (typeof answer !== 'object' || !Array.isArray(answer.rejected)) throw new KeyflowUnavailableError(`POST /v1/events answered ${a.status}: ${a.text.slice(0, 200)}`);
      const rejected = new Map(answer.rejected.map((r) => [r.index, r.errors]));
      batch.forEach((p, i) => {
        const errors = rejected.get(i);
        if (errors !== undefined) p.reject(new KeyflowEventRejectedError(p.event.id, errors));
        else p.resolve({ id: p.event.id, occurredAt: p.event.occurredAt });
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
    } finally {
      this.#active--;
      this.#slots.shift()?.();
    }
  }
}
