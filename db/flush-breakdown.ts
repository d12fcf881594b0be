// Where PostgreSQL's CPU goes in the flush statement: the statement run whole and with parts
// of it removed (users dimension, user activity, hour/day rollups, everything but the event
// insert), on the same kind of batches, interleaved round by round. Rule it watches: a
// figure is PostgreSQL's own CPU time (utime+stime of the backend process, from /proc), not
// wall time, so that a loaded machine changes it little; PostgreSQL must run on this host.
//
//   node --import tsx db/flush-breakdown.ts [warmBatches=200] [rounds=20] [users=10000]
//
// Batches are 2,000 events a couple of seconds apart (a live stream), users drawn from
// Zipf(0.8) over `users`, as the bench draws them. The warm-up grows the tables first, so the
// upserts meet existing rows and indexes of a realistic size. A variant with a part removed
// is not a correct flush; it only prices that part.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { ZipfSampler } from '../bench/generate.ts';
import { prng } from '../test/support/events.ts';
import { FLUSH_STATEMENT } from './flush.ts';
import { ensurePartitions } from './partitions.ts';
import { sampleEvents } from './sample-events.ts';
import { createTestDatabase } from './testing.ts';

const warm = Number(process.argv[2] ?? 200);
const rounds = Number(process.argv[3] ?? 20);
const users = Number(process.argv[4] ?? 10_000);
const SIZE = 2000;
const FROM = Date.UTC(2026, 10, 20, 12);

const without = (cte: string) => (s: string): string => {
  const out = s.replace(new RegExp(`${cte} as \\([\\s\\S]*?\\n  \\)`), `${cte} as (select 1)`);
  if (out === s) throw new Error(`flush-breakdown: no CTE ${cte} in the flush statement`);
  return out;
};
const noActivity = (s: string) => without('activity_sets_day_up')(without('activity_sets_hour_up')(s));
// The activity sets take their ordinals from the users upsert: without it, without them too.
const noUsers = (s: string) => without('users_upserted')(noActivity(s));
const noHourDay = (s: string) => without('rollups_day_up')(without('rollups_hour_up')(s));
const variants: Record<string, string> = {
  'whole flush': FLUSH_STATEMENT,
  'without users and activity': noUsers(FLUSH_STATEMENT),
  'without activity': noActivity(FLUSH_STATEMENT),
  'without hour/day rollups': noHourDay(FLUSH_STATEMENT),
  'events insert only': without('rollups_minute_up')(noHourDay(noUsers(FLUSH_STATEMENT))),
};

const db = await createTestDatabase();
try {
  await ensurePartitions(db.sql, { aheadDays: 1, behindDays: 1, now: new Date(FROM) });
  const zipf = new ZipfSampler(users, 0.8, prng(9));
  let at = FROM;
  const batch = (seed: number): string => {
    const events: KeyflowEvent[] = sampleEvents(SIZE, { seed, fromMs: at, spreadMs: 2000 }).map((e) => ({ ...e, userId: `u-${zipf.next()}` }));
    at += 2000;
    // The rows as flushBatch ships them (db/flush.ts eventRows), in identity order.
    const rows = events.map((e) => ({
      id: e.id, occurred_at: new Date(e.occurredAt).toISOString(), type: e.type, source: e.source, user_id: e.userId, session_id: e.sessionId,
      funnel_stage: e.funnelStage, revenue_amount: e.revenue?.amount, revenue_currency: e.revenue?.currency, user_age: e.user?.age,
      user_gender: e.user?.gender, user_country: e.user?.country, user_city: e.user?.city, properties: e.properties, partition_key: partitionKeyOf(e),
    }));
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return JSON.stringify(rows);
  };
  const one = postgres(db.url, { max: 1, onnotice: () => undefined });
  const [row] = await one<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const cpuMs = (): number => {
    const f = readFileSync(`/proc/${row!.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  };
  for (let i = 0; i < warm; i++) await one.unsafe(FLUSH_STATEMENT, [batch(1000 + i), '[]', SIZE], { prepare: true });
  const cpu = new Map<string, number>();
  const wall = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [name, text] of Object.entries(variants)) {
      const p = batch(100_000 + r * 10 + cpu.size);
      const t = performance.now();
      const c = cpuMs();
      await one.unsafe(text, [p, '[]', SIZE], { prepare: true });
      cpu.set(name, (cpu.get(name) ?? 0) + cpuMs() - c);
      wall.set(name, [...(wall.get(name) ?? []), performance.now() - t]);
    }
  }
  await one.end();
  console.log(`${SIZE} events per flush, ${users} users (Zipf 0.8), after ${warm} warm-up flushes; ${rounds} rounds`);
  console.log('variant                     PG CPU µs/event   wall ms (median)');
  for (const [name, ms] of cpu) {
    const w = [...wall.get(name)!].sort((a, b) => a - b);
    console.log(`${name.padEnd(28)}${((ms * 1000) / rounds / SIZE).toFixed(1).padStart(15)}${w[Math.floor(w.length / 2)]!.toFixed(1).padStart(19)}`);
  }
} finally {
  await db.drop();
}
