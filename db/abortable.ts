// Reads that stop when nobody waits for them. Rule: when the signal of a read aborts (its
// HTTP client went away), every statement the read sent is cancelled in PostgreSQL
// (postgres.js query.cancel(): a CancelRequest for a running statement, out of the queue for
// one waiting for a connection), so an abandoned report holds no connection and no CPU.
import type { PendingQuery, Row } from 'postgres';
import type { Sql } from './connect.ts';

type Query = PendingQuery<Row[]> & { executed?: boolean };

/**
 * Run `read` with a view of `sql` whose statements are cancelled when `signal` aborts. A read
 * cancelled that way rejects with PostgreSQL's 57014 (query_canceled), like a statement timeout.
 *
 * @example
 * const report = await abortable(sql, c.req.raw.signal, (s) => reportEvents(s, q));
 */
export async function abortable<T>(sql: Sql, signal: AbortSignal | undefined, read: (sql: Sql) => Promise<T>): Promise<T> {
  if (signal === undefined) return read(sql);
  signal.throwIfAborted();
  const sent: Query[] = [];
  const track = <Q>(q: Q): Q => {
    sent.push(q as Query);
    return q;
  };
  const view = new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const out: unknown = Reflect.apply(target, thisArg, args);
      // Only a tagged template is a statement; sql('name') and sql(rows) are helpers.
      const first = args[0] as { raw?: unknown } | undefined;
      return Array.isArray(first?.raw) ? track(out) : out;
    },
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (key === 'unsafe' && typeof v === 'function') return (...a: unknown[]) => track((v as (...x: unknown[]) => unknown)(...a));
      return v;
    },
  });
  const cancel = (): void => {
    // Fragments nested in a statement are never executed themselves: cancelling one would
    // reject a promise nobody awaits.
    for (const q of sent) if (q.executed === true) void q.cancel();
  };
  signal.addEventListener('abort', cancel, { once: true });
  try {
    return await read(view);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}
