// `npx tsx bench/queries/timezones.ts --db URL [--requests N] [--zones UTC,Asia/Kathmandu,…]`
//
// The time series per time zone, on a database the query bench loaded and kept
// (`npm run bench -- --scenario queries --events 1000000 --users 100000 --keep`). Rule: each
// zone is asked the same windows, interval by interval, one request at a time after two
// warm-ups, through db/timeseries.ts directly (no HTTP), so the figures compare zones and
// nothing else; windows end at the current minute, as the query bench's do.
import { parseArgs } from 'node:util';
import { connectDb } from '../../db/index.ts';
import { timeseries, type Interval } from '../../db/timeseries.ts';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;

const { values } = parseArgs({
  options: { db: { type: 'string' }, requests: { type: 'string' }, zones: { type: 'string' } },
});
if (values.db === undefined) throw new Error('--db: the URL of a kept query-bench database is required');
const requests = Number(values.requests ?? '20');
if (!Number.isInteger(requests) || requests < 1) throw new Error(`--requests: a positive integer, got ${values.requests}`);
const zones = (values.zones ?? 'UTC,Asia/Kathmandu,Asia/Kolkata,America/New_York,Australia/Lord_Howe').split(',');
const rows: [Interval, string, number][] = [['1h', 'last day', DAY], ['1d', 'last 30 days', 30 * DAY], ['1d', 'last 60 days', 60 * DAY]];

const sql = connectDb(values.db, { max: 1 });
const pct = (xs: readonly number[], p: number): number => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)] ?? Number.NaN;
try {
  const to = new Date(Math.floor(Date.now() / MINUTE) * MINUTE + MINUTE);
  process.stdout.write(`| interval | window | zone | p50 ms | p99 ms |\n|---|---|---|---:|---:|\n`);
  for (const [interval, name, span] of rows) {
    for (const tz of zones) {
      const q = { from: new Date(to.getTime() - span), to, interval, tz };
      const times: number[] = [];
      for (let i = 0; i < requests + 2; i++) {
        const t0 = performance.now();
        await timeseries(sql, q);
        if (i >= 2) times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      process.stdout.write(`| ${interval} | ${name} | ${tz} | ${pct(times, 50).toFixed(1)} | ${pct(times, 99).toFixed(1)} |\n`);
    }
  }
} finally {
  await sql.end({ timeout: 2 });
}
