// The table the bench prints on stdout when a scenario is done.
import type { BenchResult } from '../result.ts';
import { heapList, int, ms, ratio, secs } from './format.ts';

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
}

export function resultTable(r: BenchResult): string {
  const k = r.keyflow;
  const widths = [34, 12, 9, 9, 9, 10, 8];
  const rows: string[][] = [['', 'events/s', 'p50 ms', 'p95 ms', 'p99 ms', 'peak RSS', 'CPU s']];
  rows.push([`keyflow end to end (${k.phases.filter((p) => p.name !== 'half' && p.name !== 'over').map((p) => p.name).join('+')})`, int(k.eventsPerSec), '', '', '', `${int(k.peakRssMiB)} MiB`, k.cpuSeconds.toFixed(1)]);
  for (const p of k.phases) {
    const l = p.latency;
    rows.push([`  phase ${p.name} (${p.rate === 'max' ? 'max' : `${int(p.rate)}/s`}, ${p.via}${p.via === 'http' ? ` ×${p.batch}` : ''})`, int(p.eventsPerSec), l ? ms(l.p50Ms) : '', l ? ms(l.p95Ms) : '', l ? ms(l.p99Ms) : '', `${int(p.peakRssMiB)} MiB`, p.cpuSeconds.toFixed(1)]);
    if (p.otherKeys) rows.push(['    other keys', '', ms(p.otherKeys.p50Ms), ms(p.otherKeys.p95Ms), ms(p.otherKeys.p99Ms), '', '']);
    if (p.hotKey) rows.push(['    hot key u-hot', '', ms(p.hotKey.p50Ms), ms(p.hotKey.p95Ms), ms(p.hotKey.p99Ms), '', '']);
    if (p.http) rows.push([p.via === 'stream' ? '    POST /v1/events/stream (1 request)' : `    POST /v1/events (${int(p.http.requests)} requests)`, int(p.sendRatePerSec), ms(p.http.p50Ms), ms(p.http.p95Ms), ms(p.http.p99Ms), '', '']);
  }
  if (r.rawKafka) rows.push([`raw Kafka consumer${r.rawKafka.sampled ? ` (${int(r.rawKafka.messages)} msgs)` : ''}`, int(r.rawKafka.eventsPerSec), '', '', '', '', '']);
  if (r.rawPostgres) rows.push([`raw Postgres COPY${r.rawPostgres.sampled ? ` (${int(r.rawPostgres.rows)} rows)` : ''}`, int(r.rawPostgres.rowsPerSec), '', '', '', '', '']);
  if (r.naive) rows.push([`naive INSERT per event${r.naive.sampled ? ` (first ${int(r.naive.messages)})` : ''}`, int(r.naive.eventsPerSec), '', '', '', '', '']);
  if (r.peer) rows.push(['peer: Kafka Connect + JDBC sink', int(r.peer.eventsPerSec), '', '', '', '', r.peer.cpuSeconds.toFixed(1)]);
  const lines = [
    `scenario ${r.scenario}: ${r.description}`,
    `${int(r.totalEvents)} distinct events in all phases (${int(r.messages)} messages) · ${r.machine.cpus} CPUs · node ${r.machine.node} · Kafka ${r.machine.kafka} · PostgreSQL ${r.machine.postgres} · Redis ${r.machine.redis}`,
    '',
    ...rows.map((row) => pad(row, widths)),
    '',
    `keyflow/naive ${ratio(r.ratios.vsNaive)}   keyflow/raw Postgres ${ratio(r.ratios.vsRawPostgres)} (rows/s)   keyflow/raw Kafka ${ratio(r.ratios.vsRawKafka)}`,
    `latency (${k.latencyPhase}): p50 ${ms(k.p50Ms)} ms · p95 ${ms(k.p95Ms)} ms · p99 ${ms(k.p99Ms)} ms — send → queryable, resolution ~${k.latencyResolutionMs} ms`,
  ];
  if (k.overload) {
    const ov = k.overload;
    lines.push(`overload: target ${int(ov.targetRatePerSec)}/s, sent ${int(ov.achievedSendRatePerSec)}/s for ${ov.seconds} s · peak RSS ${int(ov.peakRssMiB)} MiB · lost ${int(ov.lost)} · drained ${ov.drainMs === undefined ? 'never' : secs(ov.drainMs)} after sending stopped`);
    if (ov.peakHeapMiB !== undefined && Object.keys(ov.peakHeapMiB).length > 0) lines.push(`peak V8 heap in use per thread (over): ${heapList(ov.peakHeapMiB)}`);
  }
  for (const p of k.phases) {
    const c = p.cpu;
    lines.push(`CPU s in phase ${p.name} (${c.wallSeconds.toFixed(1)} s × ${r.machine.cpus} CPUs): keyflow ${c.keyflow.toFixed(1)} · postgres ${c.postgres.toFixed(1)} · kafka ${c.kafka.toFixed(1)} · redis ${c.redis.toFixed(1)} · bench ${c.bench.toFixed(1)} · other ${c.other.toFixed(1)} · idle ${c.idle.toFixed(1)} — max ${int(p.maxPendingEvents)} events pending in keyflow`);
  }
  if (r.peer) {
    const c = r.peer.cpu;
    lines.push(`keyflow/peer ${ratio(r.ratios.vsPeer ?? null)} (rows/s; peer: ${int(r.peer.rowsPerSec)} rows/s, ${int(r.peer.rows)} rows, worker ready in ${secs(r.peer.startMs)}, not timed)`);
    const us = (cpuS: number, n: number) => int((cpuS / Math.max(1, n)) * 1e6);
    lines.push(`CPU per row: keyflow ${us(k.cpuSeconds, r.events)} µs (+ postgres ${us(k.phases[0]?.cpu.postgres ?? 0, r.events)}) · peer ${us(r.peer.cpuSeconds, r.peer.rows)} µs (+ postgres ${us(c.postgres, r.peer.rows)})`);
    lines.push(`CPU s of the peer (${c.wallSeconds.toFixed(1)} s): connect ${c.peer.toFixed(1)} · postgres ${c.postgres.toFixed(1)} · kafka ${c.kafka.toFixed(1)} · bench ${c.bench.toFixed(1)} · other ${c.other.toFixed(1)} · idle ${c.idle.toFixed(1)}`);
  }
  if (r.naive?.sampled) lines.push(`naive ran on the first ${int(r.naive.messages)} messages only (it is slow); its rate is events/s over that sample`);
  const x = r.exactness;
  lines.push(x.ok ? `exactness: ${int(x.expected)} distinct sent = ${int(x.stored)} stored = ${int(x.rollupSum)} counted ✓` : `exactness: FAILED — ${x.problems.join('; ')}`);
  if (r.report) lines.push(`report: ${r.report}`);
  return lines.join('\n');
}
