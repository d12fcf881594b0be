// The Markdown report of one run, with its SVG chart beside it:
// <out>/<scenario>-<timestamp>.md and .svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { profileMarkdown } from '../profile.ts';
import type { BenchResult } from '../result.ts';
import { heapList, int, ms, ratio, secs } from './format.ts';
import { chartSvg } from './svg.ts';

/** The goals of issue #4, judged on one result; undefined where the run says nothing about it. */
export function goals(r: BenchResult): { name: string; met: boolean | undefined; value: string }[] {
  const half = r.keyflow.phases.find((p) => p.name === 'half');
  const ov = r.keyflow.overload;
  return [
    { name: 'keyflow ≥ 20× naive', met: r.ratios.vsNaive === null ? undefined : r.ratios.vsNaive >= 20, value: ratio(r.ratios.vsNaive) },
    { name: 'keyflow ≥ 50% of raw Postgres COPY (rows/s)', met: r.ratios.vsRawPostgres === null ? undefined : r.ratios.vsRawPostgres >= 0.5, value: ratio(r.ratios.vsRawPostgres) },
    { name: 'p99 send → queryable ≤ 500 ms at half the max rate', met: half?.latency === undefined ? undefined : half.latency.p99Ms <= 500, value: half?.latency === undefined ? '—' : `${ms(half.latency.p99Ms)} ms at ${typeof half.rate === 'number' ? int(half.rate) : '?'}/s` },
    { name: 'overload: peak RSS ≤ 384 MiB, no event lost', met: ov === undefined ? undefined : ov.peakRssMiB <= 384 && ov.lost === 0 && r.exactness.ok, value: ov === undefined ? '—' : `${int(ov.peakRssMiB)} MiB, ${int(ov.lost)} lost` },
  ];
}

export function resultMarkdown(r: BenchResult, svgFile: string): string {
  const k = r.keyflow;
  const m = r.machine;
  const L: string[] = [];
  L.push(`# keyflow bench — ${r.scenario} — ${r.startedAt}`, '', r.description, '', '```', r.command, '```', '');
  L.push(`Machine: ${m.cpus} CPUs (${m.cpuModel}), ${int(m.memoryMiB)} MiB, Linux ${m.kernel}, node ${m.node}; Kafka ${m.kafka} (kafkajs ${m.kafkajs}), PostgreSQL ${m.postgres}, Redis ${m.redis}; load average at the end ${m.loadAverage}. keyflow runs as ${String(r.config['keyflowRunsAs'])}, at commit ${String(r.config['git'])}; env: \`${Object.entries(r.config['keyflowEnv'] as Record<string, string>).map(([a, b]) => `${a}=${b}`).join(' ')}\`.`, '');
  L.push('## Results', '');
  L.push('| | events/s | rows/s | p50 ms | p95 ms | p99 ms | peak RSS MiB | CPU s |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  L.push(`| **keyflow end to end** | **${int(k.eventsPerSec)}** | ${int(k.rowsPerSec)} | ${ms(k.p50Ms)} | ${ms(k.p95Ms)} | **${ms(k.p99Ms)}** | ${int(k.peakRssMiB)} | ${k.cpuSeconds.toFixed(1)} |`);
  for (const p of k.phases) {
    const l = p.latency;
    L.push(`| phase \`${p.name}\` (${p.rate === 'max' ? 'max' : `${int(p.rate)}/s`}, ${p.via}, batch ${p.batch}) | ${int(p.eventsPerSec)} | ${int(p.rowsPerSec)} | ${l ? ms(l.p50Ms) : ''} | ${l ? ms(l.p95Ms) : ''} | ${l ? ms(l.p99Ms) : ''} | ${int(p.peakRssMiB)} | ${p.cpuSeconds.toFixed(1)} |`);
    if (p.otherKeys) L.push(`| &nbsp;&nbsp;other keys | | | ${ms(p.otherKeys.p50Ms)} | ${ms(p.otherKeys.p95Ms)} | ${ms(p.otherKeys.p99Ms)} | | |`);
    if (p.hotKey) L.push(`| &nbsp;&nbsp;hot key \`u-hot\` | | | ${ms(p.hotKey.p50Ms)} | ${ms(p.hotKey.p95Ms)} | ${ms(p.hotKey.p99Ms)} | | |`);
    if (p.http) L.push(`| &nbsp;&nbsp;${p.via === 'stream' ? 'POST /v1/events/stream, one request (first byte to answer' : `POST /v1/events request latency (${int(p.http.requests)} requests, ${p.http.retries} retries`}; accepted events/s) | ${int(p.sendRatePerSec)} | | ${ms(p.http.p50Ms)} | ${ms(p.http.p95Ms)} | ${ms(p.http.p99Ms)} | | |`);
  }
  if (r.rawKafka) L.push(`| raw Kafka: bare kafkajs consumer, ${int(r.rawKafka.messages)} messages${r.rawKafka.sampled ? ' (sample)' : ''} | ${int(r.rawKafka.eventsPerSec)} | | | | | | |`);
  if (r.rawPostgres) L.push(`| raw Postgres: one COPY of ${int(r.rawPostgres.rows)} stored rows${r.rawPostgres.sampled ? ' (sample)' : ''} into ${r.rawPostgres.table} | | ${int(r.rawPostgres.rowsPerSec)} | | | | | |`);
  if (r.naive) L.push(`| naive: eachMessage + one INSERT per event${r.naive.sampled ? `, first ${int(r.naive.messages)} messages only` : ''} | ${int(r.naive.eventsPerSec)} | | | | | | |`);
  if (r.peer) L.push(`| peer: ${r.peer.tool}, ${int(r.peer.messages)} messages into ${r.peer.table} | ${int(r.peer.eventsPerSec)} | ${int(r.peer.rowsPerSec)} | | | | | ${r.peer.cpuSeconds.toFixed(1)} |`);
  if (r.peer) L.push('', `keyflow/peer **${ratio(r.ratios.vsPeer ?? null)}** (rows/s). The peer upserts each event on its primary key (id, occurred_at), so a resend leaves one row; it keeps no rollups, no users dimension or activity, no exact counts (a count is a scan of its table), no dead letters (a bad record stops its task), and it needs every message wrapped in a schema envelope (${int(r.peer.firstMessageBytes)} bytes for the first one).`);
  L.push('', `Ratios: keyflow/naive **${ratio(r.ratios.vsNaive)}**, keyflow/raw Postgres COPY **${ratio(r.ratios.vsRawPostgres)}** (rows/s), keyflow/raw Kafka **${ratio(r.ratios.vsRawKafka)}**.`, '');
  L.push('| goal | value | met |', '|---|---|---|');
  for (const g of goals(r)) L.push(`| ${g.name} | ${g.value} | ${g.met === undefined ? 'not measured here' : g.met ? 'yes' : '**no**'} |`);
  if (k.overload) {
    const o = k.overload;
    L.push('', `Overload: target ${int(o.targetRatePerSec)}/s (2× the ${int(o.targetRatePerSec / 2)}/s measured), achieved ${int(o.achievedSendRatePerSec)}/s for ${o.seconds} s; peak RSS ${int(o.peakRssMiB)} MiB; ${int(o.lost)} events lost; backlog drained ${o.drainMs === undefined ? 'never' : secs(o.drainMs)} after sending stopped.${o.peakHeapMiB !== undefined && Object.keys(o.peakHeapMiB).length > 0 ? ` Peak V8 heap in use per thread: ${heapList(o.peakHeapMiB)}.` : ''}`);
  }
  L.push('', '### Where the machine\'s CPU went, phase by phase', '', `CPU seconds in each phase's window (first send → last counted), machine-wide, ${m.cpus} CPUs; "other" includes anything else running on the machine.`, '');
  L.push('| phase | wall s | keyflow | postgres | kafka | redis | bench (load generator) | other | idle | max events pending in keyflow |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of k.phases) L.push(`| \`${p.name}\` | ${p.cpu.wallSeconds.toFixed(1)} | ${p.cpu.keyflow.toFixed(1)} | ${p.cpu.postgres.toFixed(1)} | ${p.cpu.kafka.toFixed(1)} | ${p.cpu.redis.toFixed(1)} | ${p.cpu.bench.toFixed(1)} | ${p.cpu.other.toFixed(1)} | ${p.cpu.idle.toFixed(1)} | ${int(p.maxPendingEvents)} |`);
  const x = r.exactness;
  L.push('', '## Exactness', '', x.ok ? `Passed: ${int(x.expected)} distinct events sent in all phases (${int(r.messages)} messages), ${int(x.stored)} stored once each, ${int(x.rollupSum)} counted in rollups_minute; keyflow exited ${k.exitCode}.` : `**FAILED**:\n\n${x.problems.map((p) => `- ${p}`).join('\n')}`);
  L.push('', '## Over time', '', `![throughput, latency and memory over the run](${svgFile})`);
  if (r.profile) L.push('', '## Where keyflow spends its CPU', '', profileMarkdown(r.profile));
  L.push('', '## How this was measured', '');
  L.push(`- keyflow: a \`keyflow all\` child process (started ${secs(k.startMs)} before the first send) with its own database, topic (${r.config['topic']}), consumer group and Redis prefix. Throughput = messages of the throughput phases ÷ (last distinct event counted in \`rollups_minute\` − first message stamped), phase by phase; rows/s is the same with distinct events.`);
  L.push(`- Latency: ${k.latencyMethod}. Mean poll period ${k.latencyResolutionMs} ms. The headline percentiles are those of phase \`${k.latencyPhase}\`.`);
  L.push('- Memory: sum of VmRSS over keyflow\'s process tree every 200 ms, and its VmHWM; CPU: utime+stime from /proc.');
  L.push('- Baselines run after keyflow stopped, one at a time, on the same topic and the same rows: raw Kafka = a bare kafkajs consumer in a new group counting messages, timed from its group join; raw Postgres = COPY FROM STDIN of the rows keyflow stored (read back with COPY TO before the clock starts) into a non-partitioned table LIKE events including defaults and indexes; naive = kafkajs eachMessage, JSON.parse and one autocommitted INSERT … ON CONFLICT DO NOTHING per message, timed from its group join.');
  return `${L.join('\n')}\n`;
}

/** Write <dir>/<scenario>-<timestamp>.md and .svg; returns the Markdown path. */
export function writeReport(r: BenchResult, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${r.scenario}-${r.startedAt.replace(/[:.]/g, '-')}`);
  writeFileSync(`${base}.svg`, chartSvg(r));
  writeFileSync(`${base}.md`, resultMarkdown(r, `./${basename(base)}.svg`));
  return `${base}.md`;
}
