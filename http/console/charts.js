// The console's charts, drawn as inline SVG or plain bars, sized to their container.
// Rule: a chart shows exactly the numbers it was given (each bar carries its own count in
// `data-*` attributes and a tooltip), scales start at zero, and an empty window says so
// instead of drawing a flat line that reads like "down".
import { fmtInt, fmtShort, h, put, s, seriesColor } from './dom.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const intervalMs = { '1m': MINUTE, '1h': HOUR, '1d': DAY };

/** The smallest "nice" number ≥ max that splits into `ticks` round steps. */
function niceMax(max, ticks) {
  if (max <= 0) return ticks;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw) ?? 10 * mag;
  return step * ticks;
}

function label(t, interval, stepMs) {
  const d = new Date(t);
  if (interval === '1d' || stepMs >= DAY) return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const hm = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
  return d.getHours() === 0 && d.getMinutes() === 0 ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) : hm;
}

function localAligned(t, stepMs) {
  const offset = new Date(t).getTimezoneOffset() * MINUTE;
  return (t - offset) % stepMs === 0;
}

/**
 * Draw a time series (`points: [{ t, events, users }]` of DESIGN.md) as bars of events with a
 * line of distinct users.
 *
 * @example
 * drawTimeseries(document.getElementById('chart'), response.points, '1m');
 */
export function drawTimeseries(container, points, interval) {
  const width = Math.max(280, container.clientWidth || 800);
  const height = width < 560 ? 190 : 250;
  const m = { left: 44, right: 10, top: 10, bottom: 24 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const n = Math.max(1, points.length);
  const bw = plotW / n;
  const maxEvents = Math.max(0, ...points.map((p) => p.events));
  const maxUsers = Math.max(0, ...points.map((p) => p.users ?? 0));
  const top = niceMax(Math.max(maxEvents, maxUsers), 4);
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const total = points.reduce((a, p) => a + p.events, 0);

  const svg = s('svg', {
    class: 'ts', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${fmtInt(total)} events in ${points.length} buckets of ${interval}`,
    'data-events-total': total, 'data-points': points.length, 'data-interval': interval,
  });

  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    svg.append(
      s('line', { class: 'grid', x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmtShort(v)),
    );
  }

  // X labels at round local times, at least ~72 px apart.
  const step = intervalMs[interval] ?? MINUTE;
  const candidates = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160].map((k) => k * MINUTE).filter((c) => c >= step);
  const labelStep = candidates.find((c) => (c / step) * bw >= 72) ?? candidates[candidates.length - 1];
  points.forEach((p, i) => {
    const t = Date.parse(p.t);
    if (!localAligned(t, labelStep)) return;
    const x = m.left + i * bw;
    svg.append(
      s('line', { class: 'tick', x1: x, x2: x, y1: m.top + plotH, y2: m.top + plotH + 4 }),
      s('text', { class: 'axis', x, y: height - 6, 'text-anchor': 'middle' }, label(t, interval, labelStep)),
    );
  });

  const gap = bw >= 4 ? 1 : 0;
  const bars = s('g', { class: 'bars' });
  points.forEach((p, i) => {
    const x = m.left + i * bw;
    const revenue = Object.entries(p.revenue ?? {}).map(([c, v]) => `${c} ${v}`).join(', ');
    const tip = `${label(Date.parse(p.t), '1m', MINUTE)} — ${fmtInt(p.events)} events, ${fmtInt(p.users ?? 0)} users${revenue ? `, ${revenue}` : ''}`;
    bars.append(s('g', { class: 'bucket', 'data-t': p.t, 'data-events': p.events, 'data-users': p.users ?? 0 },
      s('title', {}, tip),
      s('rect', { class: 'hit', x, y: m.top, width: bw, height: plotH }),
      p.events > 0 ? s('rect', { class: 'bar', x: x + gap / 2, y: y(p.events), width: Math.max(1, bw - gap), height: Math.max(1, y(0) - y(p.events)) }) : null,
    ));
  });
  svg.append(bars);

  if (points.some((p) => (p.users ?? 0) > 0)) {
    const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${(m.left + (i + 0.5) * bw).toFixed(1)},${y(p.users ?? 0).toFixed(1)}`).join('');
    svg.append(s('path', { class: 'users-line', d }));
  }
  svg.append(s('line', { class: 'baseline', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }));
  if (total === 0) {
    svg.append(s('text', { class: 'empty', x: m.left + plotW / 2, y: m.top + plotH / 2, 'text-anchor': 'middle' }, 'no events in this window'));
  }
  put(container,
    h('div', { class: 'legend' },
      h('span', { class: 'lg bar-key' }, 'events'), h('span', { class: 'lg line-key' }, 'distinct users'),
      h('span', { class: 'legend-total' }, `${fmtInt(total)} events · peak ${fmtInt(maxEvents)} per ${interval}`)),
    svg);
}

/**
 * Horizontal bars for `[{ label, value }]`, longest first, scaled to the largest.
 *
 * @example
 * drawBars(list, summary.topTypes.map((t) => ({ label: t.type, value: t.events })));
 */
export function drawBars(list, items, empty = 'nothing yet') {
  const max = Math.max(1, ...items.map((i) => i.value));
  if (items.length === 0) return put(list, h('li', { class: 'none' }, empty));
  return put(list, items.map((item) =>
    h('li', { 'data-label': item.label, 'data-value': item.value, title: `${item.label}: ${fmtInt(item.value)}` },
      h('span', { class: 'name' }, item.label),
      h('span', { class: 'track' }, h('span', { class: 'fill', style: { width: `${((item.value / max) * 100).toFixed(2)}%` } })),
      h('span', { class: 'num' }, fmtInt(item.value)))));
}

/**
 * The events report grouped by type and source: one bar per type, split by source, with a
 * legend of sources. At most `limit` types; the rest are summed in a last line.
 *
 * @example
 * drawReport(el, report.groups);
 */
export function drawReport(container, groups, limit = 12) {
  const byType = new Map();
  const sourceTotals = new Map();
  for (const g of groups) {
    const type = g.type ?? '(none)';
    const source = g.source ?? '(none)';
    const row = byType.get(type) ?? { type, total: 0, sources: new Map() };
    row.total += g.count;
    row.sources.set(source, (row.sources.get(source) ?? 0) + g.count);
    byType.set(type, row);
    sourceTotals.set(source, (sourceTotals.get(source) ?? 0) + g.count);
  }
  if (byType.size === 0) return put(container, h('p', { class: 'none' }, 'no events in this window'));
  const sources = [...sourceTotals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name]) => name);
  const color = new Map(sources.map((name, i) => [name, seriesColor(i)]));
  const rows = [...byType.values()].sort((a, b) => b.total - a.total || a.type.localeCompare(b.type));
  const shown = rows.slice(0, limit);
  const rest = rows.slice(limit);
  const max = Math.max(1, ...shown.map((r) => r.total));
  const legend = h('ul', { class: 'legend sources' }, sources.map((name) =>
    h('li', { 'data-source': name }, h('span', { class: 'swatch', style: { background: color.get(name) } }), name, ' ', h('span', { class: 'muted' }, fmtInt(sourceTotals.get(name))))));
  const list = h('ol', { class: 'stacked' }, shown.map((r) =>
    h('li', { 'data-type': r.type, 'data-count': r.total },
      h('span', { class: 'name', title: r.type }, r.type),
      h('span', { class: 'track' }, h('span', { class: 'stack', style: { width: `${((r.total / max) * 100).toFixed(2)}%` } },
        sources.filter((src) => r.sources.has(src)).map((src) => {
          const n = r.sources.get(src);
          return h('span', { class: 'seg', 'data-source': src, 'data-count': n, title: `${r.type} · ${src}: ${fmtInt(n)}`, style: { 'flex-grow': n, background: color.get(src) } });
        }))),
      h('span', { class: 'num' }, fmtInt(r.total)))));
  const more = rest.length === 0 ? null : h('p', { class: 'muted more' }, `+ ${rest.length} more types, ${fmtInt(rest.reduce((a, r) => a + r.total, 0))} events`);
  return put(container, legend, list, more);
}

/**
 * A sparkline of the last values (oldest first) in an <svg> element.
 *
 * @example
 * drawSpark(document.getElementById('eps-spark'), history);
 */
export function drawSpark(svg, values) {
  const width = Math.max(60, svg.clientWidth || svg.parentElement?.clientWidth || 160);
  const height = 28;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  if (values.length < 2) return put(svg);
  const max = Math.max(1, ...values);
  const dx = width / (values.length - 1);
  const pts = values.map((v, i) => `${(i * dx).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  return put(svg,
    s('path', { class: 'spark-area', d: `M0,${height} L${pts.join(' L')} L${width},${height} Z` }),
    s('path', { class: 'spark-line', d: `M${pts.join(' L')}` }));
}
