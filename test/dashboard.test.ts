// Every panel of compose/grafana/dashboards/keyflow.json proven against a real Prometheus
// (Debian's package, started here with its own data folder): a scaled deployment (`keyflow
// edge` + `keyflow worker`, both scraped) gets traffic — events, duplicates, a rejected
// request, a poison message, a worker that exits — and then each panel's PromQL must
// evaluate without error and return at least one series with a number. The alerting rules
// pass `promtool check rules`, and Prometheus evaluates them once against that deployment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { alertRulesFile, repoRoot, startPrometheus, type RunningPrometheus } from '../compose/local/index.ts';
import { eventually, postJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';
import { testProducer } from './support/kafka.ts';

type Panel = { title: string; type: string; targets?: { expr: string; refId: string }[] };
type QueryAnswer = { status: 'success' | 'error'; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] } };

// Grafana's variables, as a dashboard opened right after the traffic would fill them in.
const grafanaVariables: Record<string, string> = { $__rate_interval: '2m', $__range: '10m', $__interval: '5s' };
const toPromQl = (expr: string): string => Object.entries(grafanaVariables).reduce((e, [k, v]) => e.split(k).join(v), expr);

let iso: Isolated;
let edge: KeyflowProcess;
let worker: KeyflowProcess;
let prom: RunningPrometheus;
let promDir: string;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function query(promql: string): Promise<QueryAnswer> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return (await res.json()) as QueryAnswer;
}

const hostPort = (url: string): string => new URL(url).host;
const withNumbers = (a: QueryAnswer): number => (a.data?.result ?? []).filter((r) => Number.isFinite(Number(r.value[1]))).length;

before(async () => {
  iso = await isolate({ KEYFLOW_FAULTS: '1', KEYFLOW_FLUSH_INTERVAL_MS: '100' });
  worker = await startKeyflow(iso.env, 'worker');
  edge = await startKeyflow(iso.env, 'edge');
  promDir = await mkdtemp(join(tmpdir(), 'keyflow-prometheus-'));
  prom = await startPrometheus({
    dir: promDir,
    host: '127.0.0.1',
    port: await freePort(),
    scrapeIntervalS: 1,
    targets: [
      { targets: [hostPort(edge.url)], labels: { role: 'edge' } },
      { targets: [hostPort(worker.url)], labels: { role: 'worker' } },
    ],
    ruleFiles: [alertRulesFile],
  });

  // rate() needs the counters before and after the traffic: wait for the first scrapes.
  await eventually(() => query('sum(up{job="keyflow"})'), (a) => Number(a.data?.result[0]?.value[1]) === 2, 30_000, 250);
  await sleep(1_500);

  // Traffic for every panel, over a few scrapes: accepted events with resends, a rejected
  // request, a report, a poison message straight to Kafka (a dead letter), and a worker
  // thread that exits.
  const now = Date.now();
  for (let b = 0; b < 5; b++) {
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `d-${b}-${i % 30}`, type: i % 2 ? 'ad.click' : 'page.view', source: 'tiktok', occurredAt: now - (i % 30), userId: `u-${i % 7}` }));
    assert.equal((await postJson(`${edge.url}/v1/events`, { events })).status, 202);
    await sleep(500);
  }
  assert.equal((await postJson(`${edge.url}/v1/events`, { id: '', type: 'x' })).status, 400);
  assert.equal((await fetch(`${edge.url}/v1/reports/events?groupBy=type`)).status, 200);
  const producer = await testProducer();
  try {
    await producer.send({ topic: iso.topic, acks: -1, messages: [{ key: 'poison', value: 'not json at all' }] });
  } finally {
    await producer.disconnect();
  }
  assert.equal((await postJson(`${worker.url}/v1/admin/faults/workers/0/exit`, {})).status, 202);
});

after(async () => {
  await prom?.stop();
  await edge?.stop('SIGTERM');
  await worker?.stop('SIGTERM');
  await iso?.cleanup();
  if (promDir) await rm(promDir, { recursive: true, force: true });
});

test('dashboard - every panel query is valid PromQL and returns series from a live scaled deployment', async () => {
  const dashboard = JSON.parse(await readFile(join(repoRoot, 'compose', 'grafana', 'dashboards', 'keyflow.json'), 'utf8')) as { panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');
  assert.ok(panels.length >= 20, `the dashboard has its panels (${panels.length})`);
  // The dead letter stored and the restart counted (both scraped) before the panels are read.
  await eventually(() => query('sum(keyflow_dead_letters_total)'), (a) => Number(a.data?.result[0]?.value[1]) >= 1, 30_000, 500);
  await eventually(() => query('sum(increase(keyflow_worker_restarts_total[5m]))'), (a) => Number(a.data?.result[0]?.value[1]) > 0, 30_000, 500);

  const counts: string[] = [];
  const empty: string[] = [];
  for (const panel of panels) {
    const targets = panel.targets ?? [];
    assert.ok(targets.length > 0, `panel "${panel.title}" has a query`);
    for (const t of targets) {
      const promql = toPromQl(t.expr);
      // Series appear within a few scrapes of the traffic; a query that stays empty fails.
      const answer = await eventually(() => query(promql), (a) => a.status !== 'success' || withNumbers(a) > 0, 10_000, 500);
      assert.equal(answer.status, 'success', `panel "${panel.title}" ${t.refId}: ${promql} is invalid: ${answer.error}`);
      const n = withNumbers(answer);
      counts.push(`${panel.title} [${t.refId}]: ${n} series`);
      if (n === 0) empty.push(`"${panel.title}" ${t.refId}: ${promql}`);
    }
  }
  console.log(`panels and their series:\n  ${counts.join('\n  ')}`);
  assert.deepEqual(empty, [], 'every panel query returns at least one series with a value');
});

test('alerts - the rules pass promtool and Prometheus evaluates each of them; dead letters and the restarted worker fire', async () => {
  const { stdout } = await promisify(execFile)('promtool', ['check', 'rules', alertRulesFile]);
  assert.match(stdout, /SUCCESS: 5 rules found/);

  type Rule = { name: string; health: string; lastError?: string; state: string; lastEvaluation: string };
  const rules = await eventually(
    async () => ((await (await fetch(`${prom.url}/api/v1/rules`)).json()) as { data: { groups: { rules: Rule[] }[] } }).data.groups.flatMap((g) => g.rules),
    (rs) => rs.length === 5 && rs.every((r) => !r.lastEvaluation.startsWith('0001')) && rs.some((r) => r.name === 'KeyflowDeadLettersRising' && r.state === 'firing'),
    30_000,
    500,
  );
  const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
  assert.deepEqual(Object.keys(byName).sort(), ['KeyflowConsumerLagGrowing', 'KeyflowDeadLettersRising', 'KeyflowNotReady', 'KeyflowPartitionStalled', 'KeyflowWorkerRestarting']);
  for (const r of rules) assert.equal(r.health, 'ok', `${r.name} evaluates without error (${r.lastError ?? ''})`);
  assert.equal(byName['KeyflowDeadLettersRising']!.state, 'firing', 'the poison message makes dead letters rise');
  assert.equal(byName['KeyflowWorkerRestarting']!.state, 'firing', 'the exited worker counts as a restart');
  // The exited worker makes its process unready for a moment, so the rule may be pending;
  // it fires only after a minute of unreadiness, which a healthy restart never reaches.
  assert.notEqual(byName['KeyflowNotReady']!.state, 'firing', 'no process stays unready');
  assert.equal(byName['KeyflowConsumerLagGrowing']!.state, 'inactive', 'the workers keep up');
  // The worker thread that exited gave its partitions to the others within seconds: no stall.
  assert.equal(byName['KeyflowPartitionStalled']!.state, 'inactive', 'no partition stalled');
});
