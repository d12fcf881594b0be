// The web console's wiring: the live view, the chart, the report and the two look-ups.
// Rule: the live numbers come from /v1/stream (`event: summary` once a second); when the
// stream cannot be had, the console polls /v1/analytics/summary each second and says so in
// the status pill, and retries the stream every 15 s. A refused key (401/403) stops the live
// loop until the operator enters another one. Nothing is kept beyond this tab's session.
import { apiKey, getJson, readStream, setApiKey } from './api.js';
import { drawBars, drawReport, drawSpark, drawTimeseries } from './charts.js';
import { fmtInt, fmtRate, h, put, showError, timeZone } from './dom.js';
import { eventView, userView } from './views.js';

const MINUTE = 60_000;
const STALE_MS = 5_000;
const POLL_MS = 1_000;
const STREAM_RETRY_MS = 15_000;
const PANELS_MS = 10_000;

const $ = (id) => document.getElementById(id);

// ---- status pill and banner ----------------------------------------------------------------
function setConn(state, text) {
  $('conn').dataset.state = state;
  $('conn-text').textContent = text;
}

function needKey(error) {
  if (error?.status !== 401 && error?.status !== 403) return false;
  const banner = $('banner');
  banner.hidden = false;
  banner.textContent = apiKey() === ''
    ? 'keyflow asks for an API key: enter it at the top right (kept in this tab only).'
    : `keyflow refused the API key (${error.status} ${error.code}: ${error.message}). Enter another one at the top right.`;
  return true;
}

function keyAccepted() {
  $('banner').hidden = true;
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

// ---- live ----------------------------------------------------------------------------------
const rates = [];
let lastEventsLastMinute;

function showSummary(summary) {
  $('eps').textContent = fmtRate(summary.eventsPerSecond);
  $('elm').textContent = fmtInt(summary.eventsLastMinute);
  const users = summary.activeUsers ?? {};
  $('au-1m').textContent = fmtInt(users['1m']);
  $('au-5m').textContent = fmtInt(users['5m']);
  $('au-30m').textContent = fmtInt(users['30m']);
  $('live-at').textContent = summary.at ? `as of ${new Date(summary.at).toLocaleTimeString(undefined, { hour12: false })}` : '';
  drawBars($('top-types'), (summary.topTypes ?? []).slice(0, 8).map((t) => ({ label: t.type, value: t.events })), 'no events in the last 5 minutes');
  rates.push(Number(summary.eventsPerSecond) || 0);
  if (rates.length > 120) rates.shift();
  drawSpark($('eps-spark'), rates);
  showError($('live-error'), undefined);
  keyAccepted();
  // New events are worth a fresh chart and report without waiting for the next period.
  if (lastEventsLastMinute !== undefined && summary.eventsLastMinute !== lastEventsLastMinute) refreshSoon();
  lastEventsLastMinute = summary.eventsLastMinute;
}

function describe(error) {
  return error?.status ? `${error.status} ${error.code}` : (error?.message ?? String(error));
}

async function streamOnce(signal) {
  const stale = new AbortController();
  let timer;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stale.abort(), STALE_MS);
  };
  arm();
  try {
    setConn('connecting', 'connecting to the live stream…');
    await readStream('/v1/stream', (name, data) => {
      if (name !== 'summary') return;
      arm();
      showSummary(JSON.parse(data));
      setConn('live', 'live');
    }, AbortSignal.any([signal, stale.signal]));
    return new Error('the live stream closed');
  } catch (error) {
    if (stale.signal.aborted && !signal.aborted) return new Error(`no summary for ${STALE_MS / 1000} s`);
    return error;
  } finally {
    clearTimeout(timer);
  }
}

async function liveLoop(signal) {
  while (!signal.aborted) {
    const streamError = await streamOnce(signal);
    if (signal.aborted) return;
    if (needKey(streamError)) {
      setConn('auth', 'API key needed');
      showError($('live-error'), streamError, 'live stream');
      return;
    }
    const until = Date.now() + STREAM_RETRY_MS;
    while (!signal.aborted && Date.now() < until) {
      try {
        showSummary(await getJson('/v1/analytics/summary', {}, signal));
        setConn('polling', `polling (stream: ${describe(streamError)})`);
      } catch (error) {
        if (signal.aborted) return;
        if (needKey(error)) {
          setConn('auth', 'API key needed');
          showError($('live-error'), error, 'live summary');
          return;
        }
        setConn('error', `live view unavailable: ${describe(error)}`);
        showError($('live-error'), error, 'live summary');
      }
      await sleep(POLL_MS, signal);
    }
  }
}

let live;
function startLive() {
  live?.abort();
  live = new AbortController();
  void liveLoop(live.signal);
}

// ---- chart and report ----------------------------------------------------------------------
const ranges = {
  '1h': { interval: '1m', buckets: 60 },
  '6h': { interval: '1m', buckets: 360 },
  '24h': { interval: '1h', buckets: 24 },
  '7d': { interval: '1h', buckets: 168 },
  '30d': { interval: '1d', buckets: 30 },
};

/** The window of a range: it ends at the end of the current bucket, in the browser's zone. */
function windowOf(range) {
  const { interval, buckets } = ranges[range] ?? ranges['1h'];
  const end = new Date();
  if (interval === '1m') end.setSeconds(60, 0);
  else if (interval === '1h') end.setMinutes(60, 0, 0);
  else end.setHours(24, 0, 0, 0);
  const start = new Date(end);
  if (interval === '1m') start.setTime(end.getTime() - buckets * MINUTE);
  else if (interval === '1h') start.setTime(end.getTime() - buckets * 60 * MINUTE);
  else start.setDate(end.getDate() - buckets);
  return { from: start.toISOString(), to: end.toISOString(), interval };
}

let lastPoints;
let panelsBusy = false;
let panelsAt = 0;

async function refreshChart(w) {
  const query = { from: w.from, to: w.to, interval: w.interval };
  if (w.interval !== '1m') query.tz = timeZone;
  try {
    const ts = await getJson('/v1/analytics/timeseries', query);
    lastPoints = { points: ts.points ?? [], interval: ts.interval ?? w.interval };
    drawTimeseries($('chart'), lastPoints.points, lastPoints.interval);
    const per = { '1m': 'per minute', '1h': 'per hour', '1d': 'per day' }[lastPoints.interval] ?? '';
    $('chart-sub').textContent = `${per} · times in ${timeZone}`;
    showError($('chart-error'), undefined);
    keyAccepted();
  } catch (error) {
    needKey(error);
    // A chart of old numbers would read as current: drop it and say why.
    lastPoints = undefined;
    put($('chart'));
    showError($('chart-error'), error, 'time series');
  }
}

async function refreshReport(w) {
  try {
    const r = await getJson('/v1/reports/events', { from: w.from, to: w.to, groupBy: 'type,source' });
    drawReport($('report'), r.groups ?? []);
    $('report-sub').textContent = `${fmtInt(r.total)} events`;
    $('report').dataset.total = String(r.total);
    showError($('report-error'), undefined);
    keyAccepted();
  } catch (error) {
    needKey(error);
    showError($('report-error'), error, 'events report');
  }
}

async function refreshPanels() {
  if (panelsBusy) return;
  panelsBusy = true;
  panelsAt = Date.now();
  try {
    const w = windowOf($('range').value);
    await Promise.all([refreshChart(w), refreshReport(w)]);
  } finally {
    panelsBusy = false;
  }
}

function refreshSoon() {
  if (Date.now() - panelsAt >= 2_000) void refreshPanels();
}

// ---- look-ups ------------------------------------------------------------------------------
async function lookUp(kind, id) {
  const out = $(`${kind}-result`);
  $(`${kind}-id`).value = id;
  rememberLookUps();
  put(out, h('p', { class: 'muted' }, `looking up ${id}…`));
  const path = kind === 'event' ? `/v1/events/${encodeURIComponent(id)}` : `/v1/users/${encodeURIComponent(id)}`;
  try {
    const found = await getJson(path);
    const links = { event: (x) => void lookUp('event', x), user: (x) => void lookUp('user', x) };
    put(out, kind === 'event' ? eventView(found, links) : userView(found, links));
    keyAccepted();
  } catch (error) {
    needKey(error);
    const box = h('div', { class: 'error' });
    showError(box, error, error?.status === 404 ? `no ${kind} ${JSON.stringify(id)}` : `${kind} look-up`);
    put(out, box);
  }
}

// The look-ups are in the address (#event=…&user=…), so a reload or a shared link shows them again.
function rememberLookUps() {
  const q = new URLSearchParams();
  for (const kind of ['event', 'user']) if ($(`${kind}-id`).value.trim() !== '') q.set(kind, $(`${kind}-id`).value.trim());
  window.history.replaceState(null, '', q.size === 0 ? window.location.pathname : `#${q}`);
}

function restoreLookUps() {
  const q = new URLSearchParams(window.location.hash.slice(1));
  for (const kind of ['event', 'user']) {
    const id = q.get(kind);
    if (id) void lookUp(kind, id);
  }
}

// ---- start ---------------------------------------------------------------------------------
function restart() {
  startLive();
  void refreshPanels();
  restoreLookUps();
}

function main() {
  const keyInput = $('api-key');
  keyInput.value = apiKey();
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setApiKey(keyInput.value.trim());
    keyInput.value = apiKey();
    restart();
  });
  $('key-forget').addEventListener('click', () => {
    setApiKey('');
    keyInput.value = '';
    restart();
  });
  $('range').addEventListener('change', () => void refreshPanels());
  for (const kind of ['event', 'user']) {
    $(`${kind}-form`).addEventListener('submit', (e) => {
      e.preventDefault();
      const id = $(`${kind}-id`).value.trim();
      if (id !== '') void lookUp(kind, id);
    });
  }
  let frame = 0;
  let drawnWidth = 0;
  new ResizeObserver(() => {
    // Only a change of width needs a redraw (drawing itself may change the height).
    if ($('chart').clientWidth === drawnWidth) return;
    drawnWidth = $('chart').clientWidth;
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      if (lastPoints) drawTimeseries($('chart'), lastPoints.points, lastPoints.interval);
      drawSpark($('eps-spark'), rates);
    });
  }).observe($('chart'));
  setInterval(() => void refreshPanels(), PANELS_MS);
  restart();
}

main();
