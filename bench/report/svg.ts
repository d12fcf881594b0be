// A hand-rolled SVG of one run over time: throughput (sent and counted per second), latency
// (p50 and p99 by second of sending, log scale) and keyflow's resident memory, with the
// phases marked. No chart library: three panels of polylines and ticks.
import type { BenchResult } from '../result.ts';

const W = 920;
const PANEL_H = 170;
const GAP = 46;
const L = 70;
const R = 20;
const TOP = 64;

type Series = { readonly label: string; readonly color: string; readonly points: readonly (readonly [number, number])[]; readonly dash?: string };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function fmtTick(v: number): string {
  if (v >= 1_000_000) return `${v / 1_000_000}M`;
  if (v >= 1000) return `${v / 1000}k`;
  return String(Math.round(v * 100) / 100);
}

function panel(y0: number, title: string, xMax: number, series: readonly Series[], o: { log?: boolean; yUnit: string; refLine?: { y: number; label: string } }): string {
  const x = (s: number) => L + (s / xMax) * (W - L - R);
  const values = series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => Number.isFinite(v));
  if (o.refLine) values.push(o.refLine.y);
  const out: string[] = [];
  let y: (v: number) => number;
  const ticks: number[] = [];
  if (o.log) {
    const lo = 1;
    const hi = Math.max(10, ...values);
    const dLo = Math.log10(lo);
    const dHi = Math.ceil(Math.log10(hi));
    y = (v) => y0 + PANEL_H - ((Math.log10(Math.max(lo, v)) - dLo) / (dHi - dLo)) * PANEL_H;
    for (let d = 0; d <= dHi; d++) ticks.push(10 ** d);
  } else {
    const hi = Math.max(1, ...values) * 1.1;
    const step = niceStep(hi, 4);
    const top = Math.ceil(hi / step) * step;
    y = (v) => y0 + PANEL_H - (v / top) * PANEL_H;
    for (let v = 0; v <= top + 1e-9; v += step) ticks.push(v);
  }
  out.push(`<text x="${L}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const t of ticks) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 6}" y="${(y(t) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${fmtTick(t)}</text>`);
  }
  out.push(`<text x="14" y="${y0 + PANEL_H / 2}" font-size="11" fill="#555" transform="rotate(-90 14 ${y0 + PANEL_H / 2})" text-anchor="middle">${esc(o.yUnit)}</text>`);
  const xStep = niceStep(xMax, 10);
  for (let s = 0; s <= xMax + 1e-9; s += xStep) {
    out.push(`<line x1="${x(s).toFixed(1)}" x2="${x(s).toFixed(1)}" y1="${y0 + PANEL_H}" y2="${y0 + PANEL_H + 4}" stroke="#555"/>`);
    out.push(`<text x="${x(s).toFixed(1)}" y="${y0 + PANEL_H + 16}" font-size="11" text-anchor="middle" fill="#555">${fmtTick(s)}</text>`);
  }
  out.push(`<rect x="${L}" y="${y0}" width="${W - L - R}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
  if (o.refLine) {
    const ry = y(o.refLine.y).toFixed(1);
    out.push(`<line x1="${L}" x2="${W - R}" y1="${ry}" y2="${ry}" stroke="#c00" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${W - R - 4}" y="${Number(ry) - 4}" font-size="11" text-anchor="end" fill="#c00">${esc(o.refLine.label)}</text>`);
  }
  let lx = L + 10;
  for (const s of series) {
    if (s.points.length > 0) {
      const pts = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${pts}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    }
    out.push(`<rect x="${lx}" y="${y0 + 8}" width="12" height="3" fill="${s.color}"/><text x="${lx + 16}" y="${y0 + 13}" font-size="11">${esc(s.label)}</text>`);
    lx += 30 + s.label.length * 6.2;
  }
  return out.join('\n');
}

/** The run's chart as a standalone SVG document. */
export function chartSvg(r: BenchResult): string {
  const t = r.timeline;
  const xMax = Math.max(1, t.sentPerSec.length, ...t.rss.map((p) => p.s));
  const step = (xs: readonly number[]) => xs.map((v, i) => [i + 0.5, v] as const);
  const y1 = TOP;
  const y2 = y1 + PANEL_H + GAP;
  const y3 = y2 + PANEL_H + GAP;
  const y4 = y3 + PANEL_H + GAP;
  const H = y4 + PANEL_H + 36;
  const x = (s: number) => L + (s / xMax) * (W - L - R);
  const phaseMarks = t.phases
    // Labels alternate between two rows, so that phases that start close together stay readable.
    .map((p, i) => `<line x1="${x(p.startS).toFixed(1)}" x2="${x(p.startS).toFixed(1)}" y1="${y1}" y2="${y4 + PANEL_H}" stroke="#888" stroke-dasharray="3 3"/><text x="${(x(p.startS) + 3).toFixed(1)}" y="${y1 - (i % 2 === 0 ? 38 : 26)}" font-size="11" fill="#333">phase ${esc(p.name)}</text>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="16" font-size="14" text-anchor="middle">keyflow bench · ${esc(r.scenario)} · ${r.totalEvents.toLocaleString('en-US')} events · x: seconds since the first send</text>`,
    phaseMarks,
    panel(y1, 'throughput', xMax, [
      { label: 'sent (acked) / s', color: '#1f77b4', points: step(t.sentPerSec) },
      { label: 'counted in rollups / s', color: '#2ca02c', points: step(t.countedPerSec) },
    ], { yUnit: 'events/s' }),
    panel(y2, 'latency send → queryable, by second of sending (log scale)', xMax, [
      { label: 'p50', color: '#ff7f0e', points: t.latencyBySec.map((l) => [l.sec + 0.5, l.p50Ms] as const) },
      { label: 'p99', color: '#d62728', points: t.latencyBySec.map((l) => [l.sec + 0.5, l.p99Ms] as const) },
    ], { log: true, yUnit: 'ms', refLine: { y: 500, label: '500 ms goal (at half rate)' } }),
    panel(y3, 'keyflow resident memory (process tree)', xMax, [{ label: 'RSS', color: '#9467bd', points: t.rss.map((p) => [p.s, p.mib] as const) }], { yUnit: 'MiB', refLine: { y: 384, label: '384 MiB goal' } }),
    panel(y4, 'backlog: sent but not yet consumed (in Kafka), and pending in keyflow (consumed, not yet flushed)', xMax, [
      { label: 'Kafka backlog', color: '#8c564b', points: t.backlog.map((p) => [p.s, p.n] as const) },
      { label: 'pending in keyflow', color: '#17becf', points: t.pending.map((p) => [p.s, p.n] as const) },
    ], { yUnit: 'events' }),
    '</svg>',
  ].join('\n');
}
