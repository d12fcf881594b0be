// What the live view must equal, computed from the store by full scans of `events` (not
// the rollups the reconciler reads), and a small server-sent-events reader.
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/index.ts';

const MINUTE = 60_000;

/** The summary shape of GET /v1/analytics/summary. */
export type Summary = {
  at: string;
  eventsLastMinute: number;
  eventsPerSecond: number;
  activeUsers: { '1m': number; '5m': number; '30m': number };
  topTypes: { type: string; events: number }[];
};

/** Closed minutes of the last 30 whose Redis total or per-type counts differ from `events`. */
export async function liveMismatches(sql: Sql, redis: Redis, prefix: string, nowMs = Date.now()): Promise<string[]> {
  const to = Math.floor(nowMs / MINUTE) * MINUTE;
  const from = to - 30 * MINUTE;
  const rows = await sql<{ minute: Date; type: string; n: number }[]>`
    select date_trunc('minute', occurred_at) as minute, type, count(*)::int as n from events
    where occurred_at >= ${new Date(from)} and occurred_at < ${new Date(to)} group by 1, 2`;
  const want = new Map<number, Map<string, number>>();
  for (const r of rows) {
    const m = want.get(r.minute.getTime()) ?? new Map<string, number>();
    m.set(r.type, r.n);
    want.set(r.minute.getTime(), m);
  }
  const bad: string[] = [];
  for (let m = from; m < to; m += MINUTE) {
    const types = want.get(m) ?? new Map<string, number>();
    const total = [...types.values()].reduce((a, b) => a + b, 0);
    const gotTotal = Number((await redis.get(`${prefix}live:${m}:total`)) ?? 0);
    const gotTypes = await redis.hgetall(`${prefix}live:${m}:types`);
    const same = gotTotal === total && Object.keys(gotTypes).length === types.size && [...types].every(([t, n]) => Number(gotTypes[t]) === n);
    if (!same) bad.push(`${new Date(m).toISOString()}: redis ${gotTotal} ${JSON.stringify(gotTypes)}, store ${total} ${JSON.stringify(Object.fromEntries(types))}`);
  }
  return bad;
}

/** What the summary taken at `at` must say, from `events`: every window is (at − w, at]. */
export async function expectedSummary(sql: Sql, at: string): Promise<Omit<Summary, 'at'>> {
  const atMs = Date.parse(at);
  const count = async (w: number) =>
    (await sql<[{ n: number }]>`select count(*)::int as n from events where occurred_at > ${new Date(atMs - w)} and occurred_at <= ${new Date(atMs)}`)[0].n;
  const users = async (w: number) =>
    (await sql<[{ n: number }]>`select count(distinct user_id)::int as n from events where occurred_at > ${new Date(atMs - w)} and occurred_at <= ${new Date(atMs)}`)[0].n;
  const types = await sql<{ type: string; events: number }[]>`
    select type, count(*)::int as events from events
    where occurred_at > ${new Date(atMs - 5 * MINUTE)} and occurred_at <= ${new Date(atMs)}
    group by type order by events desc, type collate "C" limit 10`;
  return {
    eventsLastMinute: await count(MINUTE),
    eventsPerSecond: (await count(10_000)) / 10,
    activeUsers: { '1m': await users(MINUTE), '5m': await users(5 * MINUTE), '30m': await users(30 * MINUTE) },
    topTypes: [...types],
  };
}

/** Everything but `at`, to compare with expectedSummary. */
export const comparable = (s: Summary) => ({ eventsLastMinute: s.eventsLastMinute, eventsPerSecond: s.eventsPerSecond, activeUsers: s.activeUsers, topTypes: s.topTypes });

/** One server-sent event. */
export type Sse = { event: string; id?: string; data: string };

/** Read a text/event-stream response into `out` until it ends or `signal` fires; comments go to `comments`. */
export async function readSse(res: Response, out: Sse[], comments: string[] = []): Promise<void> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += value;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: Sse = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) out.push({ ...e, data: data.join('\n') });
      }
    }
  } catch {
    // aborted by the test
  }
}
