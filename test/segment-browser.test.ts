// Segment's browser SDK (@segment/analytics-next, pinned, bundled from the npm package with
// esbuild) in a real headless Chromium, on a page served from ANOTHER origin than keyflow,
// with API keys configured (so CORS is on and the write key must be ingest-only). Nothing
// leaves the machine: the CDN settings are given (no settings fetch), metrics sampling is
// off, and Segment.io's apiHost is keyflow; every request the page makes is checked to go to
// the page's own origin or to keyflow. Both delivery strategies: the default (one request
// per call: /v1/i, /v1/t, /v1/p, /v1/s) and batching (/v1/b). Each checks the stored events,
// the events report and the user profile, exactly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { ensureChromium, repoRoot } from '../compose/local/index.ts';
import { eventually } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const tag = randomBytes(3).toString('hex');
const KEYS = { standard: `wk-${tag}-std-0123456789`, batching: `wk-${tag}-batch-0123456789` } as const;
const OPS_KEY = `ops-${tag}-browser-0123456789`;
type Strategy = keyof typeof KEYS;
/** The source each strategy's events get: its write key's name. */
const SOURCE: Record<Strategy, string> = { standard: 'browser-std', batching: 'browser-batch' };

let iso: Isolated;
let kf: KeyflowProcess;
let site: Server;
let siteUrl = '';
let browser: Browser;

before(async () => {
  const executablePath = await ensureChromium();
  iso = await isolate({ KEYFLOW_API_KEYS: `${SOURCE.standard}:${KEYS.standard}:ingest,${SOURCE.batching}:${KEYS.batching}:ingest,ops:${OPS_KEY}:read+admin` });
  kf = await startKeyflow(iso.env);
  // The SDK as an app would bundle it; no code splitting, so no chunk is fetched from a CDN.
  const bundled = await build({
    stdin: { contents: "import { AnalyticsBrowser } from '@segment/analytics-next'; globalThis.AnalyticsBrowser = AnalyticsBrowser;", resolveDir: repoRoot, loader: 'js' },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
  });
  const script = bundled.outputFiles[0]?.text ?? '';
  site = createServer((req, res) => {
    if (req.url === '/analytics.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    else if (req.url === '/' || req.url?.startsWith('/?')) res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Shop</title><script src="/analytics.js"></script><h1>shop</h1>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const address = site.address();
  assert.ok(address !== null && typeof address === 'object');
  siteUrl = `http://127.0.0.1:${address.port}`;
  assert.notEqual(new URL(siteUrl).origin, new URL(kf.url).origin);
  browser = await chromium.launch({ executablePath, headless: true, args: chromiumFlags });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await kf?.stop();
  await iso?.cleanup();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${kf.url}${path}`, { headers: { Authorization: `Bearer ${OPS_KEY}` } });
  return { status: res.status, body: (await res.json()) as T };
}

/** A message as the SDK made it (ctx.event, through JSON). */
type Sent = { type: string; messageId: string; timestamp: string; userId?: string; anonymousId: string; event?: string; name?: string; properties?: Record<string, unknown>; traits?: Record<string, unknown> };
type Report = { total: number; groups: { type: string; count: number }[] };
type Profile = { events: number; profile: Record<string, unknown>; types: { type: string; count: number }[]; revenue: { currency: string; revenue: string }[] };

async function sendFromBrowser(strategy: Strategy, user: string): Promise<{ sent: Sent[]; requests: string[] }> {
  const context = await browser.newContext();
  const requests: string[] = [];
  const failures: string[] = [];
  try {
    const page = await context.newPage();
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
    page.on('requestfailed', (r) => failures.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    page.on('pageerror', (e) => failures.push(e.message));
    await page.goto(`${siteUrl}/`);
    const sent = await page.evaluate(
      async ({ writeKey, apiHost, strategy, user }) => {
        type Ctx = { event: unknown };
        type Loaded = { identify(u: string, t: object): Promise<Ctx>; track(e: string, p: object): Promise<Ctx>; page(n: string, p: object): Promise<Ctx>; screen(n: string, p: object): Promise<Ctx> };
        const w = globalThis as unknown as { AnalyticsBrowser: { load(s: object, o: object): Promise<[Loaded, unknown]> } };
        const [analytics] = await w.AnalyticsBrowser.load(
          { writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: writeKey } }, remotePlugins: [], metrics: { sampleRate: 0 } } },
          {
            integrations: {
              'Segment.io': { apiHost, protocol: 'http', ...(strategy === 'batching' ? { deliveryStrategy: { strategy: 'batching', config: { size: 4, timeout: 200 } } } : {}) },
            },
          },
        );
        const out: Ctx[] = [];
        out.push(await analytics.identify(user, { age: 28, gender: 'male', address: { country: 'DE', city: 'Berlin' } }));
        out.push(await analytics.track('Product Viewed', { revenue: '12.50', currency: 'EUR', product: { sku: 'p-1', tags: ['new'] } }));
        out.push(await analytics.page('Catalog', { path: '/catalog' }));
        out.push(await analytics.screen('Basket', { items: 1 }));
        return JSON.parse(JSON.stringify(out.map((c) => c.event))) as unknown;
      },
      { writeKey: KEYS[strategy], apiHost: `${new URL(kf.url).host}/v1`, strategy, user },
    );
    const apiPaths = (): string[] => requests.filter((r) => r.includes(new URL(kf.url).host)).map((r) => r.replace(kf.url, ''));
    // The batching strategy sends once its buffer is full (4 messages) or its timeout passes.
    await eventually(async () => apiPaths(), (p) => p.some((x) => x.startsWith('POST /v1/')), 10_000);
    assert.deepEqual(failures, []);
    return { sent: sent as Sent[], requests };
  } finally {
    await context.close();
  }
}

async function stored(id: string): Promise<Record<string, unknown>> {
  const r = await eventually(() => get<Record<string, unknown>>(`/v1/events/${encodeURIComponent(id)}`), (x) => x.status === 200, 30_000);
  assert.equal(r.status, 200, `event ${id} was not stored: ${JSON.stringify(r.body)}`);
  const { receivedAt: _r, ...rest } = r.body;
  return rest;
}

async function checkStrategy(strategy: Strategy): Promise<void> {
  const user = `u-${tag}-${strategy}`;
  const { sent, requests } = await sendFromBrowser(strategy, user);
  const kfOrigin = new URL(kf.url).origin;
  const siteOrigin = new URL(siteUrl).origin;
  assert.deepEqual(requests.filter((r) => !r.includes(` ${kfOrigin}/`) && !r.includes(` ${siteOrigin}/`)), [], 'a request left the machine');
  const posted = requests.filter((r) => r.startsWith('POST ') && r.includes(kfOrigin)).map((r) => new URL(r.slice(5)).pathname);
  if (strategy === 'standard') assert.deepEqual([...posted].sort(), ['/v1/i', '/v1/p', '/v1/s', '/v1/t']);
  else assert.deepEqual([...new Set(posted)], ['/v1/b']);

  assert.deepEqual(sent.map((m) => m.type), ['identify', 'track', 'page', 'screen']);
  const [identify, track, page, screen] = sent as [Sent, Sent, Sent, Sent];
  const anon = identify.anonymousId;
  assert.ok(anon.length > 0);
  const base = (m: Sent, type: string) => ({ id: m.messageId, type, source: SOURCE[strategy], occurredAt: new Date(m.timestamp).toISOString(), userId: user });
  assert.deepEqual(await stored(identify.messageId), { ...base(identify, 'identify'), user: { age: 28, gender: 'male', country: 'DE', city: 'Berlin' }, properties: { anonymousId: anon } });
  assert.deepEqual(await stored(track.messageId), {
    ...base(track, 'Product Viewed'),
    revenue: { amount: 12.5, currency: 'EUR' },
    properties: { revenue: '12.50', currency: 'EUR', 'product.sku': 'p-1', 'product.tags': '["new"]', anonymousId: anon },
  });
  // The page call carries what the browser knows of the page (path, url, title…) as sent.
  assert.equal(page.properties?.['path'], '/catalog');
  assert.deepEqual(await stored(page.messageId), { ...base(page, 'page'), properties: { ...page.properties, name: 'Catalog', anonymousId: anon } });
  assert.deepEqual(await stored(screen.messageId), { ...base(screen, 'screen'), properties: { ...screen.properties, name: 'Basket', anonymousId: anon } });

  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 3_600_000).toISOString();
  const report = (await get<Report>(`/v1/reports/events?from=${from}&to=${to}&source=${SOURCE[strategy]}&groupBy=type`)).body;
  assert.equal(report.total, 4);
  assert.deepEqual(report.groups, [{ type: 'Product Viewed', count: 1 }, { type: 'identify', count: 1 }, { type: 'page', count: 1 }, { type: 'screen', count: 1 }]);
  const profile = (await get<Profile>(`/v1/users/${user}`)).body;
  assert.equal(profile.events, 4);
  assert.deepEqual(profile.profile, { age: 28, gender: 'male', country: 'DE', city: 'Berlin' });
  assert.deepEqual(profile.revenue, [{ currency: 'EUR', revenue: '12.5' }]);
  assert.deepEqual([...profile.types].sort((a, b) => a.type.localeCompare(b.type)), [{ type: 'identify', count: 1 }, { type: 'page', count: 1 }, { type: 'Product Viewed', count: 1 }, { type: 'screen', count: 1 }]);
}

test('analytics-next - the default delivery strategy, from another origin through CORS, is stored, reported and profiled exactly', async () => {
  await checkStrategy('standard');
});

test('analytics-next - the batching delivery strategy sends /v1/b, stored, reported and profiled exactly', async () => {
  await checkStrategy('batching');
});
