// GET /v1/analytics/funnel over `events`. Rule (DESIGN.md, to the letter): per user, the
// matching events in [from, to) are ordered by (occurredAt, id) — id by code point, PostgreSQL
// `collate "C"`; for each event e1 of steps[0] the chain walks greedily to the *earliest*
// event strictly later in that order of the next step's type while occurredAt − e1.occurredAt
// ≤ window; "strictly later" includes an equal occurredAt with a greater id, and a repeated
// step type needs such a later event. The user's chain is the one reaching furthest (ties:
// the earliest e1). Events without a userId take no part. The rows stream out of PostgreSQL
// already in user order (index events_user_time), so memory holds one user at a time.
// Only users who can pass step 1 are walked: the activity sets (db/activity-sets.ts) of the
// window's whole days and hours, plus its sub-hour edges from `events`, give exactly the users
// with a matching steps[0] event (step 1's users, each a chain of one at least) and, of those,
// the ones with a matching steps[1] event too; no other user's chain can pass step 1.
import type { Sql } from './connect.ts';
import { openDays } from './activity-days.ts';
import { coverWindow, hoursForOpenDays, type Range } from './cover.ts';
import { ordinalOf } from './report-sql.ts';

/** A validated funnel query; `windowMs` bounds each chain, measured from step 1. */
export type FunnelQuery = {
  readonly from: Date;
  readonly to: Date;
  /** 2..10 event types, in order (repeats allowed). */
  readonly steps: readonly string[];
  readonly windowMs: number;
  readonly source?: readonly string[];
  readonly funnelStage?: 'top' | 'bottom';
};

export type FunnelStep = {
  readonly type: string;
  readonly users: number;
  readonly conversionFromFirst: number;
  readonly conversionFromPrevious: number;
  /** Median over the users who reached this step of their time from the previous step (lower middle); null for step 1 or no users. */
  readonly medianMsFromPrevious: number | null;
};

/** One user's events, in (occurredAt, id) order: the time and the type. */
export type UserEvents = { readonly t: readonly number[]; readonly type: readonly string[] };

/**
 * The chain a user reaches: the time of each step reached (length = steps reached, 0 when the
 * user never did steps[0]).
 *
 * @example
 * userChain({ t: [0, 5, 9], type: ['a', 'b', 'c'] }, ['a', 'c'], 10); // [0, 9]
 */
export function userChain(ev: UserEvents, steps: readonly string[], windowMs: number): number[] {
  // positions of each type, ascending
  const pos = new Map<string, number[]>();
  for (let i = 0; i < ev.type.length; i++) {
    const k = ev.type[i] as string;
    let a = pos.get(k);
    if (a === undefined) pos.set(k, (a = []));
    a.push(i);
  }
  const firsts = pos.get(steps[0] as string) ?? [];
  let best: number[] = [];
  for (const i1 of firsts) {
    const t1 = ev.t[i1] as number;
    const chain = [t1];
    let at = i1;
    for (let k = 1; k < steps.length; k++) {
      const list = pos.get(steps[k] as string);
      if (list === undefined) break;
      const j = firstAfter(list, at);
      if (j === undefined || (ev.t[j] as number) - t1 > windowMs) break;
      chain.push(ev.t[j] as number);
      at = j;
    }
    if (chain.length > best.length) best = chain;
    if (best.length === steps.length) break;
  }
  return best;
}

function firstAfter(list: readonly number[], at: number): number | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as number) > at) hi = mid;
    else lo = mid + 1;
  }
  return list[lo];
}

/** The steps' figures from each user's chain (as userChain gives it). */
export function funnelFromChains(steps: readonly string[], chains: Iterable<readonly number[]>): FunnelStep[] {
  const reached = steps.map(() => 0);
  const gaps: number[][] = steps.map(() => []);
  for (const c of chains) {
    for (let k = 0; k < c.length; k++) {
      reached[k] = (reached[k] ?? 0) + 1;
      if (k > 0) gaps[k]?.push((c[k] as number) - (c[k - 1] as number));
    }
  }
  const first = reached[0] ?? 0;
  return steps.map((type, k) => {
    const users = reached[k] ?? 0;
    const prev = k === 0 ? users : (reached[k - 1] ?? 0);
    const g = (gaps[k] ?? []).sort((a, b) => a - b);
    return {
      type,
      users,
      conversionFromFirst: first === 0 ? 0 : users / first,
      conversionFromPrevious: prev === 0 ? 0 : users / prev,
      medianMsFromPrevious: k === 0 || g.length === 0 ? null : (g[(g.length - 1) >> 1] as number),
    };
  });
}

/**
 * The funnel for `q`. Step 1's users are counted from the activity sets; only the users whose
 * sets show both steps[0] and steps[1] in the window are walked, streamed from `events` user
 * by user (one statement, one snapshot).
 *
 * @example
 * await funnel(sql, { from, to, steps: ['view', 'cart', 'buy'], windowMs: 86_400_000 });
 */
export async function funnel(sql: Sql, q: FunnelQuery): Promise<FunnelStep[]> {
  const chains: number[][] = [];
  let first = 0;
  let user: string | undefined;
  let t: number[] = [];
  let type: string[] = [];
  const close = (): void => {
    if (user !== undefined && t.length > 0) {
      const c = userChain({ t, type }, q.steps, q.windowMs);
      if (c.length > 0) chains.push(c);
    }
    t = [];
    type = [];
  };
  const [s0, s1] = q.steps as [string, string];
  const filters = sql`
    ${q.source !== undefined ? sql`and x.source in (select jsonb_array_elements_text(${JSON.stringify([...q.source])}::text::jsonb))` : sql``}
    ${q.funnelStage !== undefined ? sql`and x.funnel_stage = ${q.funnelStage}` : sql``}`;
  // A day not compacted yet has its sets in its hours only (db/activity-days.ts).
  const cover = hoursForOpenDays(coverWindow(q.from.getTime(), q.to.getTime(), { finest: 'hour' }), await openDays(sql, q.from, q.to));
  const within = (column: string, ranges: readonly Range[]) =>
    ranges.reduce((acc, r) => sql`${acc} or (x.${sql(column)} >= ${r.from} and x.${sql(column)} < ${r.to})`, sql`false`);
  const sets = (level: 'hour' | 'day') => sql`
    select x.type, m.ordinal from ${sql(`activity_sets_${level}`)} x cross join lateral unnest(x.users) as m(ordinal)
    where (${within('bucket', cover[level])}) and x.type in (${s0}, ${s1}) ${filters}`;
  const rows = sql<{ u: string | null; ms: string; type: string | null }[]>`
    with active as (
      ${sets('day')}
      union all ${sets('hour')}
      union all
      select x.type, ${ordinalOf(sql, 'x.user_id')} as ordinal from events x
      where (${within('occurred_at', cover.raw)}) and x.type in (${s0}, ${s1}) ${filters}
    ), first as materialized (
      select distinct ordinal from active where type = ${s0} and ordinal is not null
    ), second as materialized (
      select distinct ordinal from active where type = ${s1} and ordinal is not null
    ), walked as materialized (
      -- A user without steps[1] in the window reaches step 1 only: no walk needed.
      select u.user_id from first f join second s on s.ordinal = f.ordinal join users u on u.ordinal = f.ordinal
    )
    select null::text as u, (select count(*) from first)::text as ms, null::text as type, null::timestamptz as at, null::text as id
    union all
    select * from (
      select x.user_id, (extract(epoch from x.occurred_at) * 1000)::bigint::text, x.type, x.occurred_at, x.id
      from events x
      -- collate "C" (same equality) keeps the user index out: one hash semi-join over the
      -- window, not one index probe per walked user in every daily partition (4x at 1M events).
      where x.user_id collate "C" in (select user_id from walked) and x.occurred_at >= ${q.from} and x.occurred_at < ${q.to}
        -- An array parameter, as filterSql's: a plain filter in the scan of each partition,
        -- before the semi-join on the walked users (a subquery list was joined after it).
        and x.type = any(${sql.array([...new Set(q.steps)])}::text[])
        ${filters}
      order by x.user_id, x.occurred_at, x.id collate "C"
    ) e`.cursor(5000);
  for await (const batch of rows) {
    for (const r of batch) {
      if (r.u === null) {
        first = Number(r.ms);
        continue;
      }
      if (r.u !== user) {
        close();
        user = r.u;
      }
      t.push(Number(r.ms));
      type.push(r.type as string);
    }
  }
  close();
  // The users not walked reached step 1 only; step 1 has no time from a previous step.
  for (let n = chains.length; n < first; n++) chains.push([0]);
  return funnelFromChains(q.steps, chains);
}
