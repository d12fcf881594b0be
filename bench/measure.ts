// What the bench reads back from PostgreSQL: the rollup count as it grows, per-event latency
// from send to queryable, and the facts the exactness check judges.
import type { Sql } from '../db/index.ts';
import type { VisibilityMap } from './visibility.ts';

/** Polls `select sum(events) from rollups_minute`: what a report would count right now. */
export class RollupPoller {
  readonly points: { t: number; n: number }[] = [];
  readonly #sql: Sql;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #error: unknown;

  constructor(sql: Sql, intervalMs = 100) {
    this.#sql = sql;
    this.#intervalMs = intervalMs;
  }

  start(): this {
    const loop = async (): Promise<void> => {
      if (this.#stopped) return;
      try {
        await this.poll();
      } catch (e) {
        this.#error = e;
      }
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), this.#intervalMs);
    };
    void loop();
    return this;
  }

  async poll(): Promise<number> {
    const [row] = await this.#sql<{ n: string }[]>`select coalesce(sum(events), 0)::text as n from rollups_minute`;
    const n = Number(row?.n ?? 0);
    this.points.push({ t: Date.now(), n });
    return n;
  }

  get counted(): number {
    return this.points[this.points.length - 1]?.n ?? 0;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * Resolve with the time the count first reached `target`, or with why it did not: it went
   * past the target (an event counted twice), stalled for `stallMs`, or `timeoutMs` passed.
   */
  async until(target: number, o: { timeoutMs: number; stallMs: number }): Promise<{ at: number } | { at: undefined; why: string }> {
    const started = Date.now();
    let lastChange = started;
    let lastN = -1;
    for (;;) {
      if (this.#error !== undefined) return { at: undefined, why: `polling rollups failed: ${(this.#error as Error).message}` };
      const p = this.points[this.points.length - 1];
      if (p !== undefined) {
        if (p.n >= target) {
          const reached = this.points.find((x) => x.n >= target);
          return p.n > target ? { at: undefined, why: `rollups count ${p.n}, more than the ${target} distinct events sent` } : { at: reached?.t ?? p.t };
        }
        if (p.n !== lastN) {
          lastN = p.n;
          lastChange = Date.now();
        }
      }
      const now = Date.now();
      if (now - lastChange > o.stallMs) return { at: undefined, why: `rollups stuck at ${lastN} of ${target} for ${Math.round(o.stallMs / 1000)} s` };
      if (now - started > o.timeoutMs) return { at: undefined, why: `rollups reached only ${lastN} of ${target} within ${Math.round(o.timeoutMs / 1000)} s` };
      await new Promise((r) => setTimeout(r, Math.min(20, this.#intervalMs)));
    }
  }
}

export type LatencyStats = {
  /** Events measured. */
  readonly events: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** p99 of received_at (the flush transaction's START) − sentAt: a lower bound, for comparison. */
  readonly p99ToTxStartMs: number;
  /** Events whose transaction no polled snapshot showed committed (should be 0). */
  readonly unmatched: number;
};

export type LatencyFilter = {
  /** Only events stamped in [fromMs, toMs]. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Only events whose id starts with this. */
  readonly idPrefix?: string;
  /** Only events of this partition key, or of every other key. */
  readonly key?: { readonly eq: string } | { readonly ne: string };
};

/** Visible times of every transaction that stored events, as two parallel arrays for SQL. */
export async function transactionTimes(sql: Sql, vis: VisibilityMap): Promise<{ xids: number[]; times: number[] }> {
  const rows = await sql<{ x: string }[]>`select distinct xmin::text as x from events`;
  const xids: number[] = [];
  const times: number[] = [];
  for (const r of rows) {
    const t = vis.visibleAt(Number(r.x));
    if (t === undefined) continue;
    xids.push(Number(r.x));
    times.push(t);
  }
  return { xids, times };
}

type Tx = { xids: number[]; times: number[] };

function where(sql: Sql, f: LatencyFilter) {
  const prefix = f.idPrefix === undefined ? sql`` : sql`and e.id like ${`${f.idPrefix}%`}`;
  const key = f.key === undefined ? sql`` : 'eq' in f.key ? sql`and e.partition_key = ${f.key.eq}` : sql`and e.partition_key <> ${f.key.ne}`;
  return sql`(e.properties->>'sentAt')::bigint between ${f.fromMs} and ${f.toMs} ${prefix} ${key}`;
}

/** Send → queryable percentiles over every event that matches `f`. */
export async function latency(sql: Sql, tx: Tx, f: LatencyFilter): Promise<LatencyStats> {
  const [r] = await sql<{ n: number; matched: number; p: number[] | null; max: number | null; mean: number | null; p99tx: number | null }[]>`
    with vis as (select x, t from unnest(${tx.xids}::bigint[], ${tx.times}::bigint[]) as v(x, t)),
    ev as (
      select e.xmin::text::bigint as x, (e.properties->>'sentAt')::bigint as s, e.received_at
      from events e where ${where(sql, f)}
    )
    select count(*)::int as n, count(vis.t)::int as matched,
      percentile_cont(array[0.5, 0.95, 0.99]) within group (order by vis.t - ev.s) as p,
      max(vis.t - ev.s)::float8 as max, avg(vis.t - ev.s)::float8 as mean,
      percentile_cont(0.99) within group (order by extract(epoch from ev.received_at) * 1000 - ev.s) as p99tx
    from ev left join vis using (x)`;
  const p = r?.p ?? [];
  return {
    events: r?.n ?? 0,
    p50Ms: round(p[0]),
    p95Ms: round(p[1]),
    p99Ms: round(p[2]),
    maxMs: round(r?.max),
    meanMs: round(r?.mean),
    p99ToTxStartMs: round(r?.p99tx),
    unmatched: (r?.n ?? 0) - (r?.matched ?? 0),
  };
}

/** Latency p50/p99 per second of send time, for the chart. */
export async function latencyBySecond(sql: Sql, tx: Tx, t0: number): Promise<{ sec: number; events: number; p50Ms: number; p99Ms: number }[]> {
  const rows = await sql<{ sec: number; n: number; p: number[] }[]>`
    with vis as (select x, t from unnest(${tx.xids}::bigint[], ${tx.times}::bigint[]) as v(x, t))
    select floor(((e.properties->>'sentAt')::bigint - ${t0}) / 1000.0)::int as sec, count(*)::int as n,
      percentile_cont(array[0.5, 0.99]) within group (order by vis.t - (e.properties->>'sentAt')::bigint) as p
    from events e join vis on vis.x = e.xmin::text::bigint
    group by 1 order by 1`;
  return rows.map((r) => ({ sec: r.sec, events: r.n, p50Ms: round(r.p[0]), p99Ms: round(r.p[1]) }));
}

/** What the store holds, for the exactness check. Ids are `${tag}-${phase}-${index}`. */
export type StoreFacts = {
  readonly rows: number;
  readonly distinctIds: number;
  /** Rows whose id is not one of this run's. */
  readonly foreign: number;
  readonly perPhase: Readonly<Record<string, { readonly ids: number; readonly maxIndex: number }>>;
  readonly rollupSum: number;
  readonly deadLetters: number;
};

export async function storeFacts(sql: Sql, tag: string): Promise<StoreFacts> {
  const [totals] = await sql<{ rows: string; ids: string; foreign: string }[]>`
    select count(*)::text as rows, count(distinct id)::text as ids,
      count(*) filter (where id not like ${`${tag}-%`})::text as foreign
    from events`;
  const phases = await sql<{ phase: string; ids: string; max: string }[]>`
    select split_part(id, '-', 2) as phase, count(distinct id)::text as ids, max(split_part(id, '-', 3)::bigint)::text as max
    from events where id like ${`${tag}-%`} group by 1`;
  const [rollups] = await sql<{ n: string }[]>`select coalesce(sum(events), 0)::text as n from rollups_minute`;
  const [dead] = await sql<{ n: string }[]>`select count(*)::text as n from dead_letters`;
  return {
    rows: Number(totals?.rows ?? 0),
    distinctIds: Number(totals?.ids ?? 0),
    foreign: Number(totals?.foreign ?? 0),
    perPhase: Object.fromEntries(phases.map((p) => [p.phase, { ids: Number(p.ids), maxIndex: Number(p.max) }])),
    rollupSum: Number(rollups?.n ?? 0),
    deadLetters: Number(dead?.n ?? 0),
  };
}

function round(x: number | null | undefined): number {
  return x === null || x === undefined || !Number.isFinite(x) ? 0 : Math.round(x * 10) / 10;
}
