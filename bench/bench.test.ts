// The bench harness end to end on a small scale: every scenario through the real keyflow and
// services, the documented JSON, the reports, and an exactness check that does fail when the
// store and the count disagree. It checks that the harness works, never how fast anything is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../compose/local/index.ts';
import { SCENARIOS } from './args.ts';
import type { BenchResult } from './result.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyflow-bench-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // CI=1: plain progress lines, as in CI.
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const positive = (x: unknown, what: string) => assert.ok(typeof x === 'number' && Number.isFinite(x) && x > 0, `${what} should be a positive number, got ${String(x)}`);

test('bench - every scenario runs through keyflow and writes the documented JSON, a report and a chart', { timeout: 150_000 }, async () => {
  const json = join(dir, 'all.json');
  const r = await bench(['--scenario', 'all', '--events', '5000', '--latency-seconds', '2', '--duration', '2', '--naive-sample', '300', '--json', json, '--out', dir]);
  assert.equal(r.code, 0, `bench should exit 0; stderr ends:\n${r.stderr.slice(-3000)}`);
  const results = JSON.parse(readFileSync(json, 'utf8')) as BenchResult[];
  assert.deepEqual(results.map((x) => x.scenario), [...SCENARIOS]);
  for (const x of results) {
    const s = x.scenario;
    // http sends --events in batches, then --events more in one stream.
    assert.equal(x.events, s === 'http' ? 10_000 : 5000, `${s}: events`);
    positive(x.machine.cpus, `${s}: machine.cpus`);
    assert.match(x.machine.node, /^v\d+/);
    for (const k of ['eventsPerSec', 'p50Ms', 'p95Ms', 'p99Ms', 'peakRssMiB'] as const) positive(x.keyflow[k], `${s}: keyflow.${k}`);
    assert.ok(x.keyflow.p50Ms <= x.keyflow.p95Ms && x.keyflow.p95Ms <= x.keyflow.p99Ms, `${s}: percentiles in order`);
    positive(x.rawKafka?.eventsPerSec, `${s}: rawKafka.eventsPerSec`);
    positive(x.rawPostgres?.rowsPerSec, `${s}: rawPostgres.rowsPerSec`);
    positive(x.naive?.eventsPerSec, `${s}: naive.eventsPerSec`);
    for (const k of ['vsNaive', 'vsRawPostgres', 'vsRawKafka'] as const) positive(x.ratios[k], `${s}: ratios.${k}`);
    assert.equal(x.exactness.ok, true, `${s}: ${x.exactness.problems.join('; ')}`);
    assert.equal(x.exactness.stored, x.totalEvents);
    assert.equal(x.exactness.rollupSum, x.totalEvents);
    assert.equal(x.keyflow.exitCode, 0, `${s}: keyflow should exit 0 on SIGTERM`);
    assert.ok(x.report !== undefined && existsSync(x.report), `${s}: the Markdown report exists`);
    assert.match(readFileSync(x.report.replace(/\.md$/, '.svg'), 'utf8'), /^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>$/);
    assert.ok(x.keyflow.phases.every((p) => p.latency !== undefined && p.latency.unmatched === 0), `${s}: every stored event's commit was seen`);
  }
  const by = new Map(results.map((x) => [x.scenario, x]));
  const dup = by.get('duplicates')?.keyflow.phases[0];
  assert.ok(dup !== undefined && dup.resends > 0 && dup.messages === dup.distinct + dup.resends, 'duplicates resends events');
  const hot = by.get('hotkey')?.keyflow.phases[0];
  positive(hot?.otherKeys?.p99Ms, 'hotkey: p99 of the other keys');
  positive(hot?.hotKey?.events, 'hotkey: events of the hot key');
  const http = by.get('http')?.keyflow.phases ?? [];
  assert.deepEqual(http.filter((p) => p.name !== 'half').map((p) => [p.via, p.batch]), [['http', 100], ['http', 1000], ['stream', 1000]]);
  const streamed = http.find((p) => p.via === 'stream');
  assert.equal(streamed?.messages, 5000, 'the stream phase carries --events events in one request');
  assert.equal(streamed?.http?.requests, 1);
  for (const p of http) positive(p.http?.p99Ms, `http ${p.name}: request latency`);
  const ov = by.get('overload')?.keyflow.overload;
  assert.equal(ov?.lost, 0, 'overload loses no event');
  positive(ov?.peakRssMiB, 'overload peak RSS');
  assert.match(r.stdout, /keyflow\/naive .*keyflow\/raw Postgres .*keyflow\/raw Kafka/);
});

test('bench - the exactness check fails loudly when the store does not hold what was sent', { timeout: 60_000 }, async () => {
  const json = join(dir, 'wrong.json');
  // --expect-offset makes the bench believe 7 more distinct events were sent than really were.
  const r = await bench(['--events', '500', '--latency-seconds', '0', '--baselines', 'none', '--expect-offset', '7', '--json', json, '--out', dir]);
  assert.equal(r.code, 1, `bench should exit 1; stderr ends:\n${r.stderr.slice(-2000)}`);
  assert.match(r.stderr, /EXACTNESS CHECK FAILED/);
  assert.match(r.stderr, /PostgreSQL holds 500 distinct events but 507 were sent \(7 missing\)/);
  assert.match(r.stderr, /rollups_minute counts 500 events but 507 distinct were sent/);
  const result = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
  assert.equal(result.exactness.ok, false);
  assert.equal(result.rawKafka, null);
});

test('bench - the workers scenario runs 1 then 2 worker processes on the same events, exact, with each process\'s CPU', { timeout: 240_000 }, async () => {
  const json = join(dir, 'workers.json');
  const r = await bench(['--scenario', 'workers', '--events', '3000', '--processes', '1,2', '--threads', '1', '--json', json]);
  assert.equal(r.code, 0, `bench should exit 0; stderr ends:\n${r.stderr.slice(-3000)}`);
  const result = JSON.parse(readFileSync(json, 'utf8')) as import('./workers.ts').WorkersResult;
  assert.deepEqual(result.runs.map((x) => x.processes), [1, 2]);
  for (const x of result.runs) {
    assert.equal(x.events, 3000);
    assert.equal(x.exactness.ok, true, x.exactness.problems.join('; '));
    assert.equal(x.perProcessCpuSeconds.length, x.processes);
    for (const s of x.perProcessCpuSeconds) positive(s, `${x.processes} processes: a worker's CPU seconds`);
    positive(x.eventsPerSec, `${x.processes} processes: events/s`);
  }
  assert.match(r.stdout, /\| 2 \| [\d,]+ \| [\d.]+× \|/);
});
