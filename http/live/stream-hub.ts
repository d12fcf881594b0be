// The fan-out behind GET /v1/stream. Rule: keyflow never buffers without bound for a slow
// client. Each client has one writer loop and a queue of at most `maxQueuedBytes` (one event
// always fits in an empty queue); an event that does not fit is dropped for that client
// only, counted (keyflow_stream_events_dropped_total), and announced to it with a comment
// line once it reads again. A summary is never queued twice: a client that is behind gets
// the newest one. One summary is read per tick for every client together, and the feed is
// subscribed to only while some client asked for events.
import type { LiveEvent, LivePort, LiveSummary, StreamOptions } from '../ports.ts';

/** What a client asked to see with `events=true`. */
export type EventFilter = { readonly types?: ReadonlySet<string>; readonly sources?: ReadonlySet<string>; readonly userId?: string };

/** Where a client's frames go: resolves when the bytes were taken (backpressure). */
export type FrameSink = { write(frame: string): Promise<unknown>; readonly closed: boolean };

/** True when the event passes the client's filter. */
export function matches(f: EventFilter, e: LiveEvent['event']): boolean {
  if (f.types !== undefined && !f.types.has(String(e.type))) return false;
  if (f.sources !== undefined && !f.sources.has(String(e.source))) return false;
  if (f.userId !== undefined && e.userId !== f.userId) return false;
  return true;
}

const summaryFrame = (s: LiveSummary) => `event: summary\ndata: ${JSON.stringify(s)}\n\n`;
const eventFrame = (e: LiveEvent) => `event: event\nid: ${e.partition}:${e.offset}\ndata: ${JSON.stringify(e.event)}\n\n`;

class Client {
  readonly #sink: FrameSink;
  readonly #hub: StreamHub;
  readonly filter: EventFilter | undefined;
  #queue: string[] = [];
  #queuedBytes = 0;
  #summary: string | undefined;
  #dropped = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  readonly done: Promise<void>;

  constructor(hub: StreamHub, sink: FrameSink, filter: EventFilter | undefined) {
    this.#hub = hub;
    this.#sink = sink;
    this.filter = filter;
    this.done = this.#loop();
  }

  offerSummary(frame: string): void {
    this.#summary = frame;
    this.#wake?.();
  }

  offerEvents(frames: readonly string[]): void {
    let dropped = 0;
    for (const f of frames) {
      if (this.#queue.length > 0 && this.#queuedBytes + f.length > this.#hub.maxQueuedBytes) {
        dropped++;
        continue;
      }
      this.#queue.push(f);
      this.#queuedBytes += f.length;
    }
    if (dropped > 0) {
      this.#dropped += dropped;
      this.#hub.options.onDropped?.(dropped);
    }
    this.#wake?.();
  }

  /** A comment line (keep-alive); queued like a summary, never piling up. */
  offerComment(text: string): void {
    if (this.#summary === undefined) this.#summary = `: ${text}\n\n`;
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async #loop(): Promise<void> {
    while (!this.#closed && !this.#sink.closed) {
      if (this.#summary === undefined && this.#queue.length === 0) {
        await new Promise<void>((r) => (this.#wake = r));
        this.#wake = undefined;
        continue;
      }
      let out = '';
      if (this.#dropped > 0) {
        out += `: dropped ${this.#dropped} events (this client reads too slowly)\n\n`;
        this.#dropped = 0;
      }
      const events = this.#queue.length;
      out += this.#queue.join('');
      this.#queue = [];
      this.#queuedBytes = 0;
      if (this.#summary !== undefined) out += this.#summary;
      this.#summary = undefined;
      try {
        await this.#sink.write(out);
      } catch {
        return;
      }
      if (events > 0) this.#hub.options.onSent?.(events);
    }
  }
}

/** All stream clients of one edge. */
export class StreamHub {
  readonly options: StreamOptions;
  readonly #live: LivePort;
  readonly #clients = new Set<Client>();
  #eventClients = 0;
  #slots = 0;
  #unsubscribe: Promise<() => void> | undefined;
  #summaryTimer: NodeJS.Timeout | undefined;
  #keepAliveTimer: NodeJS.Timeout | undefined;

  constructor(live: LivePort, options: StreamOptions) {
    this.#live = live;
    this.options = options;
    options.signal?.addEventListener('abort', () => {
      for (const c of this.#clients) c.close();
    }, { once: true });
  }

  get maxQueuedBytes(): number {
    return this.options.maxQueuedBytes;
  }

  /**
   * Take a client slot, or answer false when all KEYFLOW_MAX_STREAM_CLIENTS are taken (or
   * the edge is shutting down). A slot taken must be given to serve(), which frees it.
   */
  tryAcquire(): boolean {
    if (this.#slots >= this.options.maxClients || this.options.signal?.aborted === true) return false;
    this.#slots++;
    return true;
  }

  /** Give back a slot from tryAcquire() that will not be served. */
  release(): void {
    this.#slots--;
  }

  /**
   * Serve one client, in a slot from tryAcquire(), until `signal` fires or its sink closes.
   * With a filter, the client also gets every newly stored event that matches; the first
   * summary goes out at once.
   */
  async serve(sink: FrameSink, filter: EventFilter | undefined, signal: AbortSignal): Promise<void> {
    const client = new Client(this, sink, filter);
    this.#clients.add(client);
    this.options.onClients?.(this.#clients.size);
    const end = () => client.close();
    signal.addEventListener('abort', end, { once: true });
    try {
      if (filter !== undefined) {
        this.#eventClients++;
        await this.#subscribe();
      }
      this.#startTimers();
      await this.#sendSummary([client]);
      await client.done;
    } finally {
      signal.removeEventListener('abort', end);
      client.close();
      this.#clients.delete(client);
      this.#slots--;
      this.options.onClients?.(this.#clients.size);
      if (filter !== undefined && --this.#eventClients === 0) await this.#unsubscribeFeed();
      if (this.#clients.size === 0) this.#stopTimers();
    }
  }

  /** Subscribe to the feed ahead of serve() (so a Redis failure can still be a 503). */
  async ensureFeed(): Promise<void> {
    await this.#subscribe();
  }

  #subscribe(): Promise<() => void> {
    this.#unsubscribe ??= this.#live.subscribe((events) => this.#fanOut(events)).catch((e: unknown) => {
      this.#unsubscribe = undefined;
      throw e;
    });
    return this.#unsubscribe;
  }

  async #unsubscribeFeed(): Promise<void> {
    const u = this.#unsubscribe;
    this.#unsubscribe = undefined;
    (await u?.catch(() => undefined))?.();
  }

  #fanOut(events: readonly LiveEvent[]): void {
    let frames: string[] | undefined;
    for (const c of this.#clients) {
      if (c.filter === undefined) continue;
      const filter = c.filter;
      // The common case (no filter) encodes each event once for every client.
      const mine = filter.types === undefined && filter.sources === undefined && filter.userId === undefined
        ? (frames ??= events.map(eventFrame))
        : events.filter((e) => matches(filter, e.event)).map(eventFrame);
      if (mine.length > 0) c.offerEvents(mine);
    }
  }

  async #sendSummary(to: Iterable<Client>): Promise<void> {
    let summary: LiveSummary;
    try {
      summary = await this.#live.summary();
    } catch {
      return; // Redis unavailable: the next tick tries again
    }
    const frame = summaryFrame(summary);
    for (const c of to) c.offerSummary(frame);
  }

  #startTimers(): void {
    if (this.#summaryTimer !== undefined) return;
    this.#summaryTimer = setInterval(() => void this.#sendSummary(this.#clients), this.options.summaryEveryMs ?? 1_000);
    this.#keepAliveTimer = setInterval(() => {
      for (const c of this.#clients) c.offerComment('keep-alive');
    }, this.options.keepAliveEveryMs ?? 15_000);
    this.#summaryTimer.unref();
    this.#keepAliveTimer.unref();
  }

  #stopTimers(): void {
    clearInterval(this.#summaryTimer);
    clearInterval(this.#keepAliveTimer);
    this.#summaryTimer = undefined;
    this.#keepAliveTimer = undefined;
  }
}
