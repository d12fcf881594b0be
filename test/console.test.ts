// The web console in a real headless Chromium (Debian's package, installed by compose/local)
// against a real keyflow with API keys configured: the page loads from the edge alone, asks
// for the key, and with it shows the events sent through the API — in the live counters, the
// time-series chart, the report bars and the two look-ups. Every wait reads the DOM with a
// generous deadline; nothing here measures time. A screenshot of the final page is saved in
// the gitignored .keyflow/screenshots/.
import { after, before, test } from 'node:test';
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
const KEY = `console-${tag}`;
const users = [`u-${tag}-ana`, `u-${tag}-bo`, `u-${tag}-cy`];
const types = ['page.view', 'ad.click', 'checkout.complete'];
const sources = ['web', 'tiktok'];
// 30 events of the last seconds: 10 per user, types and sources in a fixed rotation.
const now = Date.now();
const events = Array.from({ length: 30 }, (_, i) => ({
  id: `c-${tag}-${i}`,
  type: types[i % 3],
  source: sources[i % 2],
  occurredAt: new Date(now - (30 - i) * 100).toISOString(),
  userId: users[i % 3],
  ...(i % 3 === 2 ? { revenue: { amount: 19.99, currency: 'USD' }, funnelStage: 'bottom' } : {}),
  ...(i < 3 ? { user: { age: 30 + i, country: 'DE', city: 'Berlin' } } : {}),
  properties: { page: `/p/${i % 4}` },
}));

let iso: Isolated;
let kf: KeyflowProcess;
let userDataDir: string;
let browser: BrowserContext;
let page: Page;
const offOrigin: string[] = [];
// Uncaught exceptions of the page, and anything its Content-Security-Policy refused.
const pageErrors: string[] = [];

before(async () => {
  const executablePath = await ensureChromium();
  iso = await isolate({ KEYFLOW_API_KEYS: `other-key,${KEY}` });
  kf = await startKeyflow(iso.env);
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
      await page.screenshot({ path: join(screenshots, 'console.png'), fullPage: true });
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
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  let last: unknown;
  for (;;) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = v;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0] : e;
    }
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${DEADLINE_MS} ms; last read ${JSON.stringify(last)}`);
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

test('console - events sent through the API appear as report bars by type and source', async () => {
  const r = await postJson(`${kf.url}/v1/events`, { events }, { Authorization: `Bearer ${KEY}` });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await until('the report total', () => attr('#report', 'data-total'), (t) => t === String(events.length));
  const rows = await page.locator('#report ol.stacked > li').evaluateAll((lis) =>
    lis.map((li) => ({
      type: li.getAttribute('data-type'),
      count: Number(li.getAttribute('data-count')),
      segments: [...li.querySelectorAll('.seg')].map((s) => `${s.getAttribute('data-source')}=${s.getAttribute('data-count')}`).sort(),
    })),
  );
  // 30 events, types rotate by 3 and sources by 2: each type has 5 of each source.
  assert.deepEqual(rows.sort((a, b) => String(a.type).localeCompare(String(b.type))), [
    { type: 'ad.click', count: 10, segments: ['tiktok=5', 'web=5'] },
    { type: 'checkout.complete', count: 10, segments: ['tiktok=5', 'web=5'] },
    { type: 'page.view', count: 10, segments: ['tiktok=5', 'web=5'] },
  ]);
  assert.deepEqual(await page.locator('#report .legend.sources li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-source')).sort()), ['tiktok', 'web']);
});

test('console - the live counters show the new events and their users', async () => {
  // activeUsers over 5 minutes stays put while the test runs; the per-minute counters move.
  await until('active users over 5 minutes', () => content('#au-5m'), (t) => t === String(users.length));
  assert.equal(await text('#au-30m'), String(users.length));
  const lastMinute = Number((await text('#elm')).replace(/\D/g, ''));
  assert.ok(lastMinute > 0 && lastMinute <= events.length, `events last minute: ${lastMinute}`);
  const top = await page.locator('#top-types li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-label')}=${li.getAttribute('data-value')}`).sort());
  assert.deepEqual(top, ['ad.click=10', 'checkout.complete=10', 'page.view=10']);
  assert.notEqual(await page.locator('#conn').getAttribute('data-state'), 'error');
});

test('console - the time-series chart draws the events per minute', async () => {
  await until('the events in the chart', () => attr('#chart svg', 'data-events-total'), (t) => t === String(events.length));
  const chart = await page.locator('#chart svg').evaluate((svg) => ({
    interval: svg.getAttribute('data-interval'),
    points: Number(svg.getAttribute('data-points')),
    bars: [...svg.querySelectorAll('g.bucket')].map((g) => Number(g.getAttribute('data-events'))).filter((n) => n > 0),
    drawn: svg.querySelectorAll('rect.bar').length,
    usersLine: svg.querySelector('path.users-line') !== null,
  }));
  assert.equal(chart.interval, '1m');
  assert.ok(chart.points >= 60 && chart.points <= 61, `points: ${chart.points}`);
  assert.equal(chart.bars.reduce((a, b) => a + b, 0), events.length);
  assert.equal(chart.drawn, chart.bars.length, 'one bar per non-empty minute');
  assert.ok(chart.usersLine, 'the distinct-users line is drawn');
});

test('console - an event looked up by id is rendered, and an unknown one is a legible 404', async () => {
  const wanted = events[5]!;
  await page.fill('#event-id', wanted.id);
  await page.click('#event-form button');
  const found = page.locator(`#event-result article[data-event-id="${wanted.id}"]`);
  await found.waitFor({ timeout: DEADLINE_MS });
  const shown = await found.innerText();
  for (const s of [wanted.type, wanted.source, wanted.userId, '19.99 USD', 'page', '/p/1']) assert.ok(shown.includes(String(s)), `${s} in ${shown}`);

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
  const byType = await found.locator('.hbars li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-label')}=${li.getAttribute('data-value')}`).sort());
  // users[0] has events 0, 3, 6, …, 27: always type index 0.
  assert.deepEqual(byType, ['page.view=10']);
  assert.equal(await found.locator('.recent li').count(), 10);
  // A recent event's id looks that event up.
  await found.locator('.recent li button.link').first().click();
  await page.locator('#event-result article[data-event-id]').waitFor({ timeout: DEADLINE_MS });
  assert.deepEqual(offOrigin, [], 'no request left keyflow');
  assert.deepEqual(pageErrors, [], 'the page threw nothing and its policy refused nothing');
});
