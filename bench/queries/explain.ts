// Time one distinct-user read of the query bench straight against a database (no HTTP), or
// print its plan with EXPLAIN ANALYZE (auto_explain), to see where a route's time goes.
//
//   node --import tsx bench/queries/explain.ts <database URL> <case> [work_mem MiB]
//   EXPLAIN=1 …   one run, the plan of every statement (EXPLAIN=plain: without ANALYZE)
//   NOMEMO=1 …    Memoize off, as the edge's read pool runs
//
// Cases: ts1m ts1h tsk ts1d tsny demoh demo1d demo30 demoall fun1 fun30 — the windows of
// bench/queries/main.ts, ending at the database's newest event.
import { connectDb } from '../../db/connect.ts';
import { funnel } from '../../db/funnel.ts';
import { reportDemographics } from '../../db/report-demographics.ts';
import { timeseries } from '../../db/timeseries.ts';

const [url, which, workMem] = process.argv.slice(2);
const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const STEPS = ['ad.view', 'ad.click', 'checkout.complete'];

if (url === undefined || which === undefined) {
  process.stderr.write('usage: node --import tsx bench/queries/explain.ts <database URL> <case> [work_mem MiB]\n');
  process.exit(2);
}
const sql = connectDb(url, {
  max: 1,
  ...(workMem === undefined ? {} : { workMemMb: Number(workMem) }),
  noMemoize: process.env.NOMEMO === '1',
  onnotice: (n) => process.stdout.write(`${n.message ?? ''}\n`),
});
const [{ newest }] = await sql<[{ newest: Date }]>`select max(occurred_at) as newest from events`;
const to = new Date(Math.floor((newest.getTime() + 1) / MIN) * MIN + MIN);
const from = (span: number): Date => new Date(to.getTime() - span);
const cases: Record<string, () => Promise<unknown>> = {
  ts1m: () => timeseries(sql, { from: from(H), to, interval: '1m', tz: 'UTC' }),
  ts1h: () => timeseries(sql, { from: from(D), to, interval: '1h', tz: 'UTC' }),
  tsk: () => timeseries(sql, { from: from(D), to, interval: '1h', tz: 'Asia/Kathmandu' }),
  ts1d: () => timeseries(sql, { from: from(30 * D), to, interval: '1d', tz: 'UTC' }),
  tsny: () => timeseries(sql, { from: from(30 * D), to, interval: '1d', tz: 'America/New_York' }),
  demoh: () => reportDemographics(sql, { from: from(H), to, by: 'country' }),
  demo1d: () => reportDemographics(sql, { from: from(D), to, by: 'country' }),
  demo30: () => reportDemographics(sql, { from: from(30 * D), to, by: 'country' }),
  demoall: () => reportDemographics(sql, { from: new Date('1970-01-01T00:00:00Z'), to: new Date('9999-12-31T00:00:00Z'), by: 'country' }),
  fun1: () => funnel(sql, { from: from(D), to, steps: STEPS, windowMs: D }),
  fun30: () => funnel(sql, { from: from(30 * D), to, steps: STEPS, windowMs: D }),
};
const run = cases[which];
if (run === undefined) {
  process.stderr.write(`unknown case ${which}; one of ${Object.keys(cases).join(' ')}\n`);
  process.exit(2);
}
if (process.env.EXPLAIN !== undefined) {
  await sql`load 'auto_explain'`;
  await sql`set auto_explain.log_min_duration = 0`;
  if (process.env.EXPLAIN !== 'plain') await sql`set auto_explain.log_analyze = on`;
  await sql`set auto_explain.log_level = notice`;
}
for (let i = 0; i < (process.env.EXPLAIN !== undefined ? 1 : 3); i++) {
  const t0 = performance.now();
  const answer = await run();
  process.stdout.write(`${which} ${(performance.now() - t0).toFixed(1)} ms, ${JSON.stringify(answer).length} bytes\n`);
}
await sql.end();
