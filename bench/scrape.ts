// keyflow's own view of a run, from GET /metrics every half second: events pending in its
// workers (what backpressure bounds), events consumed from Kafka (so the Kafka backlog is
// sent − consumed), the main thread's V8 heap and each thread's. Rule: a failed scrape is skipped, never
// fatal — the figures are diagnostics beside the measurements, not measurements.

export type ScrapePoint = {
  readonly t: number;
  readonly pending: number;
  readonly consumed: number;
  readonly mainHeapMiB: number;
  /** V8 heap in use per thread (`keyflow_thread_heap_used_bytes{thread}`), MiB. */
  readonly threadHeapMiB: Readonly<Record<string, number>>;
};

const THREAD_HEAP = /^keyflow_thread_heap_used_bytes\{thread="([^"]+)"\} ([0-9.e+-]+)$/gm;

function threadHeaps(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(THREAD_HEAP)) out[m[1]!] = Number(m[2]) / 2 ** 20;
  return out;
}

const metric = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
};

export class MetricsScraper {
  readonly points: ScrapePoint[] = [];
  readonly #url: string;
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  constructor(baseUrl: string, intervalMs = 500) {
    this.#url = `${baseUrl}/metrics`;
    this.#timer = setInterval(() => void this.#scrape(), intervalMs);
    this.#timer.unref();
  }

  async #scrape(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const res = await fetch(this.#url, { signal: AbortSignal.timeout(2_000) });
      const text = await res.text();
      const pending = metric(text, 'keyflow_pending_events');
      const consumed = metric(text, 'keyflow_events_consumed_total');
      const heap = metric(text, 'nodejs_heap_size_used_bytes');
      if (pending !== undefined || consumed !== undefined) {
        this.points.push({ t: Date.now(), pending: pending ?? 0, consumed: consumed ?? 0, mainHeapMiB: (heap ?? 0) / 2 ** 20, threadHeapMiB: threadHeaps(text) });
      }
    } catch {
      // skipped: keyflow busy or stopping
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The largest V8 heap in use each thread was seen with within [from, to], MiB. */
  peakThreadHeapMiB(from = 0, to = Number.POSITIVE_INFINITY): Record<string, number> {
    const peak: Record<string, number> = {};
    for (const p of this.points) {
      if (p.t < from || p.t > to) continue;
      for (const [thread, mib] of Object.entries(p.threadHeapMiB)) peak[thread] = Math.max(peak[thread] ?? 0, mib);
    }
    return peak;
  }

  /** Largest pending count seen within [from, to]. */
  maxPending(from = 0, to = Number.POSITIVE_INFINITY): number {
    return this.points.filter((p) => p.t >= from && p.t <= to).reduce((m, p) => Math.max(m, p.pending), 0);
  }
}
