// The web console in a real headless Chromium (Debian's package, installed by compose/local)
// against a real keyflow with API keys configured: the page loads from the edge alone, asks
// for the key, and with it shows the events sent through the API — in the live counters, the
// time-series chart, the report bars and the two look-ups. Every wait reads the DOM with a
// generous deadline; nothing here measures time. A screenshot of the final page is saved in
// the gitignored .keyflow/screenshots/.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ensureChromium, repoRoot } from '../compose/local/index.ts';
import { postJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const chromiumFlags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const DEADLINE_MS = 60_000;
const screenshots = join(repoRoot, '.keyflow', 'screenshots');

const tag = randomBytes(3).toString('hex');
const KEY = `console-key-${tag}-0123456789`;
const now = Date.now();
const minutesAgo = (m: number, s = 0) => new Date(now - m * 60_000 - s * 1_000).toISOString();

type SentEvent = { id: string; type: string; source: string; occurredAt: string; userId: string; [k: string]: unknown };

// The burst under test: 30 events of the last seconds, 10 per user, types and sources in a
// fixed rotation.
const users = [`u-${tag}-ana`, `u-${tag}-bo`, `u-${tag}-cy`];
const types = ['page.view', 'ad.click', 'checkout.complete'];
const sources = ['web', 'tiktok'];
const burst: SentEvent[] = Array.from({ length: 30 }, (_, i) => ({
  id: `c-${tag}-${i}`,
  type: types[i % 3]!,
  source: sources[i % 2]!,
  occurredAt: new Date(now - (30 - i) * 100).toISOString(),
  userId: users[i % 3]!,
  ...(i % 3 === 2 ? { revenue: { amount: 19.99, currency: 'USD' }, funnelStage: 'bottom' } : {}),
  ...(i < 3 ? { user: { age: 30 + i, country: 'DE', city: 'Berlin' } } : {}),
  properties: { page: `/p/${i % 4}` },
}));

// The hour before it, so the chart has a shape: 8 to 22 and 36 to 50 minutes ago (clear of
// the 5- and 30-minute edges of the live view while the test runs), 1 to 7 events a minute.
const historyMinutes = [...Array.from({ length: 15 }, (_, i) => 8 + i), ...Array.from({ length: 15 }, (_, i) => 36 + i)];
const history: SentEvent[] = historyMinutes.flatMap((m) =>
  Array.from({ length: 1 + Math.round(3 + 3 * Math.sin(m / 5)) }, (_, j) => ({
    id: `h-${tag}-${m}-${j}`,
    type: ['page.view', 'ad.view', 'ad.click', 'signup', 'checkout.complete'][(m + j) % 5]!,
    source: ['web', 'facebook', 'tiktok', 'google'][(m * 3 + j) % 4]!,
    occurredAt: minutesAgo(m, j * 7),
    userId: `h-${tag}-${(m + j) % 7}`,
  })),
);

// Sent last, to see the counters move again: one new user.
const lateUser = `u-${tag}-dee`;
const lateEvents = (): SentEvent[] => Array.from({ length: 12 }, (_, i) => ({
  id: `l-${tag}-${i}`,
  type: 'page.view',
  source: 'web',
  occurredAt: new Date().toISOString(),
  userId: lateUser,
}));

/** `type → source → count` of a list of events. */
function byTypeAndSource(events: readonly SentEvent[]): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>();
  for (const e of events) {
    const row = m.get(e.type) ?? new Map<string, number>();
    row.set(e.source, (row.get(e.source) ?? 0) + 1);
    m.set(e.type, row);
  }
  return m;
}

let iso: Isolated;
let kf: KeyflowProcess;
// What this keyflow serves, from its /openapi.json (which lists exactly the mounted routes).
// The live and time-series routes are built beside the console: where one is not mounted yet,
// its test asserts what an operator sees then (the API's 404, legibly), and says so.
let served: (path: string) => boolean;
let userDataDir: string;
let browser: BrowserContext;
let page: Page;
const offOrigin: string[] = [];
// Uncaught exceptions of the page, and anything its Content-Security-Policy refused.
const pageErrors: string[] = [];

before(async () => {
  const executablePath = await ensureChromium();
  iso = await isolate({ KEYFLOW_API_KEYS: `other:other-key-${tag}-0123456789:ingest+read+admin,console:${KEY}:ingest+read+admin` });
  kf = await startKeyflow(iso.env);
  const doc = (await (await fetch(`${kf.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  served = (path) => doc.paths[path]?.['get'] !== undefined;
  userDataDir = await mkdtemp(join(tmpdir(), 'keyflow-chromium-'));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumFlags,
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${kf.url}/`) && !url.startsWith('data:')) offOrigin.push(url);
  });
});

after(async () => {
  try {
    if (page !== undefined) {
      await mkdir(screenshots, { recursive: true });
      // Best effort, for the picture only: let the live view settle after the reload.
      await page.locator('#conn[data-state="live"]').waitFor({ timeout: 5_000 }).catch(() => undefined);
      // The header is sticky: from the top, a full-page capture shows it where it belongs.
      await page.evaluate('window.scrollTo(0, 0)');
      await page.screenshot({ path: join(screenshots, 'console.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(screenshots, 'console-dark.png'), fullPage: true });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(screenshots, 'console-narrow.png'), fullPage: true });
    }
  } finally {
    await browser?.close();
    if (userDataDir !== undefined) await rm(userDataDir, { recursive: true, force: true });
    const stopped = await kf?.stop('SIGTERM');
    await iso?.cleanup();
    assert.equal(stopped?.code, 0, `keyflow should exit 0 on SIGTERM; its log ends:\n${kf?.logs().slice(-2000)}`);
  }
});

const text = (selector: string) => page.locator(selector).innerText();
const attr = (selector: string, name: string) => page.locator(selector).first().getAttribute(name, { timeout: 1_000 });
const content = (selector: string) => page.locator(selector).first().textContent({ timeout: 1_000 });

/** Read the page until `ok` holds; fail with the last value read once the deadline passed. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, deadlineMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0] : e;
    }
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${deadlineMs} ms; last read ${JSON.stringify(last)}`);
    await sleep(250);
  }
}

test('console - the page comes from keyflow alone, needs no key itself, and asks for one', async () => {
  const res = await page.goto(`${kf.url}/`);
  assert.equal(res?.status(), 200);
  assert.equal(await page.title(), 'keyflow console');
  await page.locator('#banner').waitFor({ state: 'visible', timeout: DEADLINE_MS });
  assert.match(await text('#banner'), /API key/);
  await page.locator('#report-error').waitFor({ state: 'visible', timeout: DEADLINE_MS });
  assert.match(await text('#report-error'), /401 unauthorized/);
  assert.equal(await page.locator('#conn').getAttribute('data-state'), 'auth');
  assert.deepEqual(offOrigin, [], 'no request leaves keyflow');
  assert.deepEqual(pageErrors, []);
});

test('console - a wrong key is refused legibly, the right one is kept in the session only', async () => {
  await page.fill('#api-key', 'not-the-key');
  await page.click('#key-form button[type=submit]');
  await until('the wrong key is refused', () => content('#banner'), (t) => /refused the API key \(401 unauthorized/.test(t ?? ''));

  await page.fill('#api-key', KEY);
  await page.click('#key-form button[type=submit]');
  await page.locator('#banner').waitFor({ state: 'hidden', timeout: DEADLINE_MS });
  const storage = await page.evaluate("({ session: sessionStorage.getItem('keyflow.apiKey'), local: localStorage.length, cookies: document.cookie })");
  assert.deepEqual(storage, { session: KEY, local: 0, cookies: '' });
  // The report answers with the key: an empty window says so.
  await until('the empty report', () => attr('#report', 'data-total'), (t) => t === '0');
});

const LIVE_DEADLINE_MS = 120_000; // generous: the machine is shared

test('console - events sent through the API appear as report bars by type and source', async () => {
  for (const batch of [history, burst]) {
    const r = await postJson(`${kf.url}/v1/events`, { events: batch }, { Authorization: `Bearer ${KEY}` });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  const all = [...history, ...burst];
  await until('the report total', () => attr('#report', 'data-total'), (t) => t === String(all.length));
  const rows = await page.locator('#report ol.stacked > li').evaluateAll((lis) =>
    lis.map((li) => ({
      type: li.getAttribute('data-type') ?? '',
      count: Number(li.getAttribute('data-count')),
      sources: Object.fromEntries([...li.querySelectorAll('.seg')].map((s) => [s.getAttribute('data-source'), Number(s.getAttribute('data-count'))])),
    })),
  );
  const expected = [...byTypeAndSource(all)].map(([type, m]) => ({ type, count: [...m.values()].reduce((a, b) => a + b, 0), sources: Object.fromEntries(m) }));
  const order = (a: { type: string; count: number }, b: { type: string; count: number }) => b.count - a.count || a.type.localeCompare(b.type);
  assert.deepEqual(rows, expected.sort(order), 'one bar per type, longest first, split by source');
  const legend = await page.locator('#report .legend.sources li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-source')).sort());
  assert.deepEqual(legend, [...new Set(all.map((e) => e.source))].sort());
});

const liveServed = () => served('/v1/stream') || served('/v1/analytics/summary');
const chartServed = () => served('/v1/analytics/timeseries');

/** Where a route is not mounted: the panel shows the API's 404, naming the route. */
async function showsMissingRoute(t: TestContext, errorBox: string, what: string, route: string): Promise<void> {
  t.diagnostic(`${route} is not served by this build: asserting the console's legible 404 instead of the ${what}`);
  await until(`the ${what} error`, () => content(errorBox), (x) => (x ?? '').includes('404 not_found') && (x ?? '').includes(`no route GET ${route}`));
}

test('console - the live counters show the new events and their users', async (t) => {
  if (!liveServed()) {
    await showsMissingRoute(t, '#live-error', 'live counters', '/v1/analytics/summary');
    assert.equal(await page.locator('#conn').getAttribute('data-state'), 'error');
    return;
  }
  const users30m = new Set([...users, ...history.filter((e) => Date.parse(e.occurredAt) > now - 30 * 60_000).map((e) => e.userId)]).size;
  await until('active users over 5 minutes', () => content('#au-5m'), (t) => t === String(users.length));
  await until('active users over 30 minutes', () => content('#au-30m'), (t) => t === String(users30m));
  // Counts and top types include the current minute: they show once the burst's flush updated Redis.
  await until('top types over 5 minutes', () => page.locator('#top-types li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-label')}=${li.getAttribute('data-value')}`).sort()),
    (top) => JSON.stringify(top) === JSON.stringify(['ad.click=10', 'checkout.complete=10', 'page.view=10']), LIVE_DEADLINE_MS);
  const lastMinute = await until('events in the last minute', async () => Number((await text('#elm')).replace(/\D/g, '')), (n) => n > 0, LIVE_DEADLINE_MS);
  assert.ok(lastMinute <= burst.length, `events last minute: ${lastMinute}`);
  assert.notEqual(await page.locator('#conn').getAttribute('data-state'), 'error');
});

/** The non-empty buckets the chart draws, `t → events`. */
const chartBuckets = () => page.locator('#chart svg g.bucket').evaluateAll((gs) =>
  Object.fromEntries(gs.filter((g) => Number(g.getAttribute('data-events')) > 0).map((g) => [Date.parse(g.getAttribute('data-t') ?? ''), Number(g.getAttribute('data-events'))])));

function perMinute(events: readonly SentEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of events) {
    const t = String(Math.floor(Date.parse(e.occurredAt) / 60_000) * 60_000);
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}

test('console - the time-series chart draws the events of each minute', async (t) => {
  if (!chartServed()) {
    await showsMissingRoute(t, '#chart-error', 'chart', '/v1/analytics/timeseries');
    assert.equal(await page.locator('#chart svg').count(), 0, 'no chart of numbers that do not exist');
    return;
  }
  const all = [...history, ...burst];
  await until('the events in the chart', () => attr('#chart svg', 'data-events-total'), (t) => t === String(all.length));
  assert.deepEqual(await chartBuckets(), perMinute(all));
  const chart = await page.locator('#chart svg').evaluate((svg) => ({
    interval: svg.getAttribute('data-interval'),
    points: Number(svg.getAttribute('data-points')),
    drawn: svg.querySelectorAll('rect.bar').length,
    usersLine: svg.querySelector('path.users-line') !== null,
  }));
  assert.equal(chart.interval, '1m');
  assert.equal(chart.points, 60, 'the last hour, one bucket a minute');
  assert.equal(chart.drawn, Object.keys(perMinute(all)).length, 'one bar per non-empty minute');
  assert.ok(chart.usersLine, 'the distinct-users line is drawn');
});

test('console - an event looked up by id is rendered, and an unknown one is a legible 404', async () => {
  const wanted = burst[5]!;
  await page.fill('#event-id', wanted.id);
  await page.click('#event-form button');
  const found = page.locator(`#event-result article[data-event-id="${wanted.id}"]`);
  await found.waitFor({ timeout: DEADLINE_MS });
  const shown = await found.innerText();
  for (const s of [wanted.type, wanted.source, wanted.userId, '19.99 USD', 'page', '/p/1']) assert.ok(shown.includes(s), `${s} in ${shown}`);

  await page.fill('#event-id', `nope-${tag}`);
  await page.click('#event-form button');
  await until('the unknown event', () => content('#event-result'), (t) => /404 not_found/.test(t ?? ''));
  assert.match(await text('#event-result'), /no event "nope-/);

  // Back to the real one for the screenshot.
  await page.fill('#event-id', wanted.id);
  await page.click('#event-form button');
  await found.waitFor({ timeout: DEADLINE_MS });
});

test('console - a user looked up by id shows the profile, types and recent events', async () => {
  const user = users[0]!;
  await page.fill('#user-id', user);
  await page.click('#user-form button');
  const found = page.locator(`#user-result article[data-user-id="${user}"]`);
  await found.waitFor({ timeout: DEADLINE_MS });
  const shown = await found.innerText();
  assert.match(shown, /10 events/);
  assert.match(shown, /Berlin/);
  const byType = await found.locator('.hbars li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-label')}=${li.getAttribute('data-value')}`));
  // users[0] has events 0, 3, 6, …, 27 of the burst: always type index 0.
  assert.deepEqual(byType, ['page.view=10']);
  assert.equal(await found.locator('.recent li').count(), 10);
  // A recent event's id looks that event up.
  await found.locator('.recent li button.link').first().click();
  await page.locator(`#event-result article[data-event-id="${burst[27]!.id}"]`).waitFor({ timeout: DEADLINE_MS });
});

test('console - a later burst moves the live counters, the chart and the report again', async (t) => {
  const before = Number(await text('#au-30m'));
  const late = lateEvents();
  const r = await postJson(`${kf.url}/v1/events`, { events: late }, { Authorization: `Bearer ${KEY}` });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const all = [...history, ...burst, ...late];
  await until('the report total', () => attr('#report', 'data-total'), (x) => x === String(all.length));
  if (liveServed()) {
    await until('active users over 30 minutes', () => content('#au-30m'), (x) => x === String(before + 1));
    assert.ok(Number(await text('#au-1m')) >= 1);
  } else {
    t.diagnostic('no live route: the live counters were not checked');
  }
  if (chartServed()) {
    await until('the events in the chart', () => attr('#chart svg', 'data-events-total'), (x) => x === String(all.length));
    assert.deepEqual(await chartBuckets(), perMinute(all));
  } else {
    t.diagnostic('no time-series route: the chart was not checked');
  }
});

test('console - the events/s tile moves while events arrive', async () => {
  assert.ok(liveServed(), 'the live routes are served');
  // Quiet first: the earlier bursts have left the last 10 s, so what shows next is these posts.
  await until('a quiet events/s tile', () => text('#eps'), (x) => x === '0');
  let posting = true;
  let sent = 0;
  const poster = (async () => {
    for (let i = 0; posting && i < 120; i++) {
      const events = Array.from({ length: 5 }, (_, j) => ({ id: `m-${tag}-${i}-${j}`, type: 'tile.move', source: 'web', occurredAt: new Date().toISOString(), userId: lateUser }));
      const r = await postJson(`${kf.url}/v1/events`, { events }, { Authorization: `Bearer ${KEY}` });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      sent += events.length;
      await sleep(500);
    }
  })();
  try {
    // Each summary frame redraws the tiles: events/s is the mean over the last 10 s, so the
    // tile moves while the events arrive, before their minute is over.
    await until('a non-zero events/s tile', () => text('#eps'), (x) => /[1-9]/.test(x));
    await until('the new type among the top types', () => page.locator('#top-types li[data-label="tile.move"]').count(), (n) => n === 1);
    assert.ok(Number((await text('#elm')).replace(/\D/g, '')) > 0, 'events in the last minute');
  } finally {
    posting = false;
    await poster;
  }
  assert.ok(sent > 0);
});

test('console - a reload keeps the key of this tab and the look-ups in the address', async () => {
  const eventId = await page.locator('#event-result article').getAttribute('data-event-id');
  assert.match(page.url(), /#event=.+&user=/);
  await page.reload();
  await page.locator(`#user-result article[data-user-id="${users[0]}"]`).waitFor({ timeout: DEADLINE_MS });
  await page.locator(`#event-result article[data-event-id="${eventId}"]`).waitFor({ timeout: DEADLINE_MS });
  assert.equal(await page.inputValue('#api-key'), KEY);
  assert.equal(await page.locator('#banner').isHidden(), true);
  await until('the report after the reload', () => attr('#report', 'data-total'), (t) => Number(t) > 0);
  assert.deepEqual(offOrigin, [], 'no request left keyflow');
  assert.deepEqual(pageErrors, [], 'the page threw nothing and its policy refused nothing');
});
