// `npm run bench -- --scenario queries [--events N] [--users N] [--days D] [--requests N] [--json FILE] [--keep]`
// `npm run bench -- --scenario queries --database URL [--only REGEX] [--requests N]`: no load; the
// routes (those whose route or window matches REGEX) over a database an earlier run kept, its
// newest event taken as now — to compare a query change before/after on the same data.
//
// Loads N events (default 10,000,000) over D days (90) from U users (1,000,000) into a fresh
// database (bench/queries/load.ts says how), starts a real `keyflow edge` on it, and measures
// the latency of each report and analytics route over typical windows through HTTP.
// Rule: every route is asked the same requests in the same order, one at a time, after two
// warm-up requests, so the figures compare routes and windows, not load; a route that does
// not answer 200 fails the bench (exit 1) instead of reporting the speed of an error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../compose/local/index.ts';
import { connectDb, migrate } from '../../db/index.ts';
import { isolate, startKeyflow } from '../../test/support/keyflow.ts';
import { loadQueryData, type LoadResult } from './load.ts';

type Probe = { readonly route: string; readonly window: string; readonly path: string };
type Measured = Probe & { readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number; readonly status: number; readonly bytes: number };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function options(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      scenario: { type: 'string' }, events: { type: 'string' }, users: { type: 'string' }, days: { type: 'string' },
      requests: { type: 'string' }, json: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' }, seed: { type: 'string' },
      database: { type: 'string' }, only: { type: 'string' },
    },
  });
  const int = (name: string, v: string | undefined, d: number): number => {
    const n = v === undefined ? d : Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    events: int('events', values.events, 10_000_000),
    users: int('users', values.users, 1_000_000),
    days: int('days', values.days, 90),
    requests: int('requests', values.requests, 20),
    seed: int('seed', values.seed, 1),
    json: values.json,
    outDir: values.out ?? 'bench/out',
    keep: values.keep ?? false,
    database: values.database,
    only: values.only === undefined ? undefined : new RegExp(values.only),
  };
}

function probes(nowMs: number, sampleUser: string): Probe[] {
  const to = Math.floor(nowMs / MINUTE) * MINUTE + MINUTE;
  const windows: [string, number][] = [['last hour', HOUR], ['last day', DAY], ['last 30 days', 30 * DAY]];
  const w = (span: number) => `from=${new Date(to - span).toISOString()}&to=${new Date(to).toISOString()}`;
  const allTime = 'from=1970-01-01T00:00:00Z&to=9999-12-31T00:00:00Z';
  const out: Probe[] = [];
  for (const [name, span] of windows) {
    out.push({ route: 'reports/events groupBy=type,source', window: name, path: `/v1/reports/events?groupBy=type,source&${w(span)}` });
    out.push({ route: 'reports/revenue groupBy=source', window: name, path: `/v1/reports/revenue?groupBy=source&${w(span)}` });
    out.push({ route: 'reports/demographics by=country', window: name, path: `/v1/reports/demographics?by=country&${w(span)}` });
  }
  out.push({ route: 'reports/events groupBy=type,source', window: 'all time', path: `/v1/reports/events?groupBy=type,source&${allTime}` });
  out.push({ route: 'reports/revenue groupBy=source', window: 'all time', path: `/v1/reports/revenue?groupBy=source&${allTime}` });
  out.push({ route: 'reports/demographics by=country', window: 'all time', path: `/v1/reports/demographics?by=country&${allTime}` });
  out.push({ route: 'analytics/timeseries interval=1m', window: 'last hour', path: `/v1/analytics/timeseries?interval=1m&${w(HOUR)}` });
  out.push({ route: 'analytics/timeseries interval=1h', window: 'last day', path: `/v1/analytics/timeseries?interval=1h&${w(DAY)}` });
  out.push({ route: 'analytics/timeseries interval=1h tz=Asia/Kathmandu', window: 'last day', path: `/v1/analytics/timeseries?interval=1h&tz=Asia/Kathmandu&${w(DAY)}` });
  out.push({ route: 'analytics/timeseries interval=1d', window: 'last 30 days', path: `/v1/analytics/timeseries?interval=1d&${w(30 * DAY)}` });
  out.push({ route: 'analytics/timeseries interval=1d tz=America/New_York', window: 'last 30 days', path: `/v1/analytics/timeseries?interval=1d&tz=America/New_York&${w(30 * DAY)}` });
  const steps = 'steps=ad.view,ad.click,checkout.complete';
  out.push({ route: 'analytics/funnel 3 steps window=1d', window: 'last day', path: `/v1/analytics/funnel?${steps}&window=1d&${w(DAY)}` });
  out.push({ route: 'analytics/funnel 3 steps window=1d', window: 'last 30 days', path: `/v1/analytics/funnel?${steps}&window=1d&${w(30 * DAY)}` });
  out.push({ route: 'users/:userId', window: '-', path: `/v1/users/${encodeURIComponent(sampleUser)}` });
  out.push({ route: 'events?userId (list)', window: 'last 30 days', path: `/v1/events?userId=${encodeURIComponent(sampleUser)}&${w(30 * DAY)}&limit=100` });
  out.push({ route: 'events (list, no filter)', window: 'last day', path: `/v1/events?${w(DAY)}&limit=100` });
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function measure(url: string, probe: Probe, requests: number): Promise<Measured> {
  let status = 0;
  let bytes = 0;
  const times: number[] = [];
  for (let i = 0; i < requests + 2; i++) {
    const t0 = performance.now();
    const res = await fetch(url + probe.path);
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    status = res.status;
    bytes = body.byteLength;
    if (res.status !== 200) {
      return { ...probe, status, bytes, p50Ms: Number.NaN, p95Ms: Number.NaN, p99Ms: Number.NaN };
    }
    if (i >= 2) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { ...probe, status, bytes, p50Ms: percentile(times, 50), p95Ms: percentile(times, 95), p99Ms: percentile(times, 99) };
}

/** Run the query bench; resolves to the exit code. */
export async function runQueryBench(argv: readonly string[]): Promise<number> {
  const o = options(argv);
  const say = (line: string) => process.stderr.write(`bench queries: ${line}\n`);
  // The data spans `days` days: the edge's start-up maintenance must not drop any of it.
  const retention = String(o.days + 2);
  const iso = await isolate({ KEYFLOW_RETENTION_DAYS: retention, KEYFLOW_ROLLUP_RETENTION_DAYS: retention, KEYFLOW_LOG_LEVEL: 'info' });
  const reused = o.database === undefined ? undefined : connectDb(o.database, { max: 1, applicationName: 'keyflow-bench' });
  try {
    let now = new Date();
    let load: LoadResult;
    if (reused !== undefined) {
      const [r] = await reused<[{ newest: Date; events: number }]>`select max(occurred_at) as newest, count(*)::int as events from events`;
      now = new Date(r.newest.getTime() + 1);
      load = { eventsMs: 0, aggregatesMs: 0, rows: { events: r.events } };
      say(`reusing ${new URL(o.database as string).pathname.slice(1)}: ${r.events.toLocaleString('en-US')} events, now = its newest + 1 ms (${now.toISOString()})`);
    } else {
      await migrate(iso.db.sql);
      say(`loading ${o.events.toLocaleString('en-US')} events over ${o.days} days from ${o.users.toLocaleString('en-US')} users into ${new URL(iso.db.url).pathname.slice(1)}`);
      load = await loadQueryData(iso.db.sql, { events: o.events, users: o.users, days: o.days, now, seed: o.seed, say });
      say(`loaded in ${(load.eventsMs / 1000).toFixed(0)} s, aggregates in ${(load.aggregatesMs / 1000).toFixed(0)} s: ${JSON.stringify(load.rows)}`);
    }
    const db = reused ?? iso.db.sql;
    const [busiest] = await db<[{ user_id: string }]>`select user_id from users order by events desc limit 1`;
    const kf = await startKeyflow(reused === undefined ? iso.env : { ...iso.env, DATABASE_URL: o.database as string }, 'edge');
    const results: Measured[] = [];
    try {
      for (const p of probes(now.getTime(), busiest.user_id).filter((p) => o.only === undefined || o.only.test(`${p.route} [${p.window}]`))) {
        const m = await measure(kf.url, p, o.requests);
        results.push(m);
        say(`${m.route} [${m.window}]: ${m.status === 200 ? `p50 ${m.p50Ms.toFixed(1)} ms, p99 ${m.p99Ms.toFixed(1)} ms` : `HTTP ${m.status}`}`);
      }
    } finally {
      await kf.stop();
    }
    const table = [
      `Query latency, ${o.events.toLocaleString('en-US')} events over ${o.days} days, ${o.users.toLocaleString('en-US')} users; ${o.requests} sequential requests per row after 2 warm-ups (p99 of ${o.requests} is the slowest).`,
      '',
      '| route | window | p50 ms | p95 ms | p99 ms | answer bytes |',
      '|---|---|---:|---:|---:|---:|',
      ...results.map((r) => `| ${r.route} | ${r.window} | ${r.status === 200 ? r.p50Ms.toFixed(1) : `HTTP ${r.status}`} | ${r.p95Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.bytes} |`),
      '',
      `Load: events ${(load.eventsMs / 1000).toFixed(0)} s, rollups/activity/users ${(load.aggregatesMs / 1000).toFixed(0)} s; rows ${Object.entries(load.rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ')}.`,
    ].join('\n');
    process.stdout.write(`\n${table}\n`);
    const out = join(repoRoot, o.outDir, 'queries.md');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${table}\n`);
    if (o.json !== undefined) {
      mkdirSync(dirname(o.json), { recursive: true });
      writeFileSync(o.json, `${JSON.stringify({ options: o, load, results }, null, 2)}\n`);
    }
    const failed = results.filter((r) => r.status !== 200);
    if (failed.length > 0) {
      process.stderr.write(`bench queries: FAILED — ${failed.map((f) => `${f.path} answered ${f.status}`).join('; ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await reused?.end();
    if (o.keep) say(`kept database ${iso.db.url}`);
    else await iso.cleanup();
  }
}
