// Small HTTP helpers for end-to-end tests: post batches with retries (as a real client
// would), and poll until a condition holds or a deadline passes.
import { setTimeout as sleep } from 'node:timers/promises';

/** POST JSON; returns status and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/**
 * Send every batch to `url()` with `concurrency` clients; a batch that fails (connection
 * error or a non-202) is sent again until `deadlineMs`, as a client with retries would.
 */
export async function sendBatches(
  url: () => string,
  batches: readonly unknown[][],
  concurrency = 4,
  deadlineMs = 120_000,
  progress: { acked: number } = { acked: 0 },
): Promise<{ retries: number }> {
  const until = Date.now() + deadlineMs;
  let next = 0;
  let retries = 0;
  const client = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      for (;;) {
        try {
          const r = await postJson(`${url()}/v1/events`, { events: batch });
          if (r.status === 202) {
            progress.acked++;
            break;
          }
          if (r.status < 500) throw new Error(`batch rejected with ${r.status}: ${JSON.stringify(r.body).slice(0, 500)}`);
        } catch (e) {
          if ((e as Error).message.startsWith('batch rejected')) throw e;
        }
        if (Date.now() > until) throw new Error('sendBatches: deadline passed with batches still failing');
        retries++;
        await sleep(200);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { retries };
}

/** Poll `probe` until it returns a value that `done` accepts; returns the last value. */
export async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch (e) {
      if (Date.now() > until) throw e;
    }
    if (Date.now() > until) return last!;
    await sleep(intervalMs);
  }
}
