// The three report routes against an oracle: random events (seeded, so a failure replays)
// are stored through the real flush, then every answer of GET /v1/reports/{events,revenue,
// demographics} — over unaligned, aligned and all-time windows, with filters, comma lists
// and every groupBy — must equal, exactly, what test/support/report-oracle.ts computes from the
// generated events in plain TypeScript; CSV answers carry the same numbers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { flushBatch } from '../db/index.ts';
import { aggregateDrift, createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { prng } from '../test/support/events.ts';
import type { Hono } from 'hono';
import type { EdgeEnv } from './env.ts';
import { oracleDemographics, oracleEvents, oracleRevenue, storedOnce, type OracleQuery } from '../test/support/report-oracle.ts';
import { demographicsReportSchema, eventsReportSchema, revenueReportSchema } from './routes/report-schemas.ts';
import { appWith } from './test-helpers.ts';
import { funnel, getEvent, getUserProfile, listDeadLetters, listEvents, reportDemographics, reportEvents, reportRevenue, timeseries } from '../db/index.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 7, 0, 0, 0); // three days from here hold most events
const SPAN = 3 * DAY;

// Sources and types whose order by code unit differs from a locale's (case, accents, '_').
const SOURCES = ['alpha', 'Zeta', 'beta_x', 'émail', 'beta', 'B2'];
const TYPES = ['ad.view', 'ad.click', 'Page.view', 'signup', 'checkout', 'refund', 'video', 'ad_view'];
const CURRENCIES = ['USD', 'EUR', 'JPY'];
// Profile values compare the same in any collation (ties go to the greater value in SQL too).
const GENDERS = ['female', 'male', 'other'];
const COUNTRIES = ['BR', 'DE', 'IN', 'US'];
const CITIES = ['austin', 'berlin', 'delhi', 'lima', 'paris'];
const USERS = 14;

const rnd = prng(20261202);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

function generate(n: number): KeyflowEvent[] {
  const out: KeyflowEvent[] = [];
  for (let i = 0; i < n; i++) {
    let at: number;
    const r = rnd();
    if (r < 0.1 && out.length > 0) at = pick(out).occurredAt; // ties in occurredAt
    else if (r < 0.13) at = pick([Date.UTC(1990, 0, 1, 3), Date.UTC(2031, 6, 4, 12, 0, 0, 5), Date.UTC(2026, 0, 1)]); // far away
    else {
      at = T0 + Math.floor(rnd() * SPAN);
      // Land on whole minutes, hours and days now and then, to test the level boundaries.
      const snap = rnd();
      if (snap < 0.1) at -= at % MINUTE;
      else if (snap < 0.15) at -= at % HOUR;
      else if (snap < 0.18) at -= at % DAY;
      else if (snap < 0.3) at -= at % 1000;
    }
    const e: KeyflowEvent = { id: `o-${i}`, type: pick(TYPES), source: pick(SOURCES), occurredAt: at };
    // Most events name one of a few users; some users never say anything about themselves.
    const who = rnd();
    if (who < 0.75) e.userId = `u-${Math.floor(rnd() * USERS)}`;
    else if (who < 0.85) e.userId = `anon-${Math.floor(rnd() * 3)}`;
    const stage = rnd();
    if (stage < 0.3) e.funnelStage = 'top';
    else if (stage < 0.55) e.funnelStage = 'bottom';
    if (rnd() < 0.35) {
      // Cents mostly, some with more decimals, a fifth of them refunds.
      const amount = (rnd() < 0.8 ? Math.round(rnd() * 20_000) / 100 : Math.round(rnd() * 1e6) / 1e4) * (rnd() < 0.2 ? -1 : 1);
      e.revenue = { amount, currency: pick(CURRENCIES) };
    }
    if (rnd() < 0.5 && !e.userId?.startsWith('anon-')) {
      const user: NonNullable<KeyflowEvent['user']> = {};
      if (rnd() < 0.6) user.age = 10 + Math.floor(rnd() * 70);
      if (rnd() < 0.6) user.gender = pick(GENDERS);
      if (rnd() < 0.6) user.country = pick(COUNTRIES);
      if (rnd() < 0.6) user.city = pick(CITIES);
      e.user = user;
    }
    out.push(e);
  }
  // The same id at another instant is another event.
  for (let i = 0; i < 20; i++) out.push({ ...pick(out), occurredAt: T0 + Math.floor(rnd() * SPAN) });
  // A refund that cancels a purchase exactly, in a currency of its own, so a sum is zero.
  out.push({ id: 'o-buy', type: 'checkout', source: 'alpha', occurredAt: T0 + 5 * HOUR + 7, userId: 'u-0', revenue: { amount: 12.5, currency: 'CHF' } });
  out.push({ id: 'o-refund', type: 'refund', source: 'alpha', occurredAt: T0 + 5 * HOUR + 9, userId: 'u-0', revenue: { amount: -12.5, currency: 'CHF' } });
  return out;
}

let db: TestDatabase;
let app: Hono<EdgeEnv>;
let stored: KeyflowEvent[];

before(async () => {
  db = await createTestDatabase();
  const events = generate(2500);
  // Shuffled, in batches with resends inside a batch and across batches.
  const order = events.map((e) => ({ e, k: rnd() })).sort((a, b) => a.k - b.k).map((x) => x.e);
  const flush = (batch: readonly KeyflowEvent[]) =>
    flushBatch(db.sql, { events: batch, partitionKeys: batch.map((e) => partitionKeyOf(e)), deadLetters: [] });
  for (let i = 0; i < order.length; i += 400) {
    const batch = order.slice(i, i + 400);
    await flush([...batch, ...batch.slice(0, 30)]);
  }
  await flush(order.slice(100, 600));
  stored = storedOnce(events);
  const [row] = await db.sql<{ n: string }[]>`select count(*)::text as n from events`;
  assert.equal(Number(row?.n), stored.length, 'every distinct event stored once');
  assert.deepEqual(await aggregateDrift(db.sql), [], 'the rollups and the activity equal the events');
  app = appWith({
    queries: {
      getEvent: (id) => getEvent(db.sql, id),
      listDeadLetters: (q) => listDeadLetters(db.sql, q),
      reportEvents: (q) => reportEvents(db.sql, q),
      reportRevenue: (q) => reportRevenue(db.sql, q),
      reportDemographics: (q) => reportDemographics(db.sql, q),
      listEvents: (q) => listEvents(db.sql, q),
      getUserProfile: (id) => getUserProfile(db.sql, id),
      timeseries: (q) => timeseries(db.sql, q),
      funnel: (q) => funnel(db.sql, q),
    },
  });
});
after(() => db?.drop());

type Window = OracleQuery & { label: string };

/** Windows of every shape: unaligned by ms, s, min, h; aligned to each level; all of time. */
function windows(): Window[] {
  const out: Window[] = [
    { label: 'all time', from: Date.parse('1970-01-01T00:00:00Z'), to: Date.parse('9999-12-31T00:00:00Z') },
    { label: 'year 0001 to the last instant', from: Date.parse('0001-01-01T00:00:00Z'), to: Date.parse('9999-12-31T23:59:59.999Z') },
    { label: 'whole days', from: T0, to: T0 + 2 * DAY },
    { label: 'whole hours', from: T0 + 3 * HOUR, to: T0 + 29 * HOUR },
    { label: 'whole minutes', from: T0 + 7 * MINUTE, to: T0 + 95 * MINUTE },
    { label: 'one millisecond', from: T0 + 5 * HOUR + 7, to: T0 + 5 * HOUR + 8 },
  ];
  const grains = [1, 1000, MINUTE, HOUR];
  for (let i = 0; i < 22; i++) {
    const g = pick(grains);
    const from = T0 - HOUR + Math.floor((rnd() * (SPAN + 2 * HOUR)) / g) * g + (rnd() < 0.5 ? Math.floor(rnd() * 1000) : 0);
    const len = pick([1000, 59 * 1000, 61 * MINUTE, 5 * HOUR + 17_003, DAY + 1, 2 * DAY + 3 * HOUR + 59_999, 4 * DAY]);
    out.push({ label: `random ${i}`, from, to: from + Math.max(1, Math.floor(rnd() * len)) });
  }
  return out;
}

/** Random filters: comma lists with 1–3 values (sometimes one that matches nothing). */
function filters(): Pick<OracleQuery, 'source' | 'type' | 'funnelStage'> {
  const list = (xs: readonly string[]) => [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => (rnd() < 0.1 ? 'nothing' : pick(xs))))];
  return {
    ...(rnd() < 0.35 && { source: list(SOURCES) }),
    ...(rnd() < 0.35 && { type: list(TYPES) }),
    ...(rnd() < 0.2 && { funnelStage: pick(['top', 'bottom'] as const) }),
  };
}

function qs(w: OracleQuery, extra: Record<string, string>): string {
  const p = new URLSearchParams({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString(), ...extra });
  if (w.source !== undefined) p.set('source', w.source.join(','));
  if (w.type !== undefined) p.set('type', w.type.join(','));
  if (w.funnelStage !== undefined) p.set('funnelStage', w.funnelStage);
  return p.toString();
}

async function getJson(path: string): Promise<unknown> {
  const res = await app.request(path);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return res.json();
}

const iso = (w: OracleQuery) => ({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() });

test('GET /v1/reports/events - equals the oracle over every window shape, filter and groupBy', async () => {
  const groupings = [[], ['type'], ['source'], ['funnelStage'], ['type', 'source'], ['funnelStage', 'type'], ['source', 'funnelStage', 'type']] as const;
  let answers = 0;
  let nonEmpty = 0;
  for (const win of windows()) {
    for (const groupBy of groupings) {
      const w = { ...win, ...(groupBy.length % 2 === 1 ? filters() : {}) };
      const path = `/v1/reports/events?${qs(w, groupBy.length > 0 ? { groupBy: groupBy.join(',') } : {})}`;
      const got = eventsReportSchema.parse(await getJson(path));
      assert.deepEqual(got, { ...iso(w), ...oracleEvents(stored, { ...w, groupBy }) }, `${win.label}: ${path}`);
      answers++;
      if (got.total > 0) nonEmpty++;
    }
  }
  assert.ok(nonEmpty > answers / 2, `most answers count something (${nonEmpty} of ${answers})`);
});

test('GET /v1/reports/revenue - exact decimal sums per currency, refunds subtracted, equal to the oracle', async () => {
  const groupings = [[], ['source'], ['type'], ['source', 'type'], ['type', 'source']] as const;
  let sawZero = false;
  let sawRefund = false;
  for (const win of windows()) {
    for (const groupBy of groupings) {
      const w = { ...win, ...(groupBy.length === 1 ? filters() : {}) };
      const path = `/v1/reports/revenue?${qs(w, groupBy.length > 0 ? { groupBy: groupBy.join(',') } : {})}`;
      const got = revenueReportSchema.parse(await getJson(path));
      assert.deepEqual(got, { ...iso(w), ...oracleRevenue(stored, { ...w, groupBy }) }, `${win.label}: ${path}`);
      sawZero ||= got.currencies.some((c) => c.revenue === '0');
      sawRefund ||= got.currencies.some((c) => c.revenue.startsWith('-') || (c.groups ?? []).some((g) => g.revenue.startsWith('-')));
    }
  }
  assert.ok(sawZero && sawRefund, 'the data exercised a zero sum and a negative sum');
});

test('GET /v1/reports/demographics - distinct users by current value, and their events, equal to the oracle', async () => {
  let sawNull = false;
  for (const win of windows()) {
    for (const by of ['gender', 'country', 'city', 'age'] as const) {
      const w = { ...win, ...(rnd() < 0.5 ? filters() : {}) };
      const path = `/v1/reports/demographics?${qs(w, { by })}`;
      const got = demographicsReportSchema.parse(await getJson(path));
      assert.deepEqual(got, { ...iso(w), by, ...oracleDemographics(stored, { ...w, by }) }, `${win.label}: ${path}`);
      sawNull ||= got.groups.some((g) => g.value === null);
    }
  }
  assert.ok(sawNull, 'the data exercised users without the field');
});

/** RFC 4180: fields separated by commas, quoted when they need it, rows ending in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && (ch === ',' || (ch === '\r' && text[i + 1] === '\n'))) {
      row.push(cell);
      cell = '';
      if (ch === '\r') {
        rows.push(row);
        row = [];
        i++;
      }
    } else {
      cell += ch;
    }
  }
  assert.deepEqual([row, cell], [[], ''], 'the CSV ends with CRLF');
  return rows;
}

test('GET /v1/reports/* - format=csv and Accept: text/csv give the same numbers as the JSON answer', async () => {
  const w = { from: T0 + 17_000, to: T0 + 2 * DAY + 5 * HOUR + 3 };
  for (const viaAccept of [false, true]) {
    const csvOf = async (path: string) => {
      const res = await app.request(viaAccept ? path : `${path}&format=csv`, viaAccept ? { headers: { Accept: 'text/csv' } } : {});
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
      return parseCsv(await res.text());
    };

    const ev = eventsReportSchema.parse(await getJson(`/v1/reports/events?${qs(w, { groupBy: 'source,funnelStage' })}`));
    assert.deepEqual(await csvOf(`/v1/reports/events?${qs(w, { groupBy: 'source,funnelStage' })}`), [
      ['source', 'funnelStage', 'count'],
      ...ev.groups.map((g) => [g.source ?? '', g.funnelStage ?? '', String(g.count)]),
    ]);
    const total = eventsReportSchema.parse(await getJson(`/v1/reports/events?${qs(w, {})}`));
    assert.deepEqual(await csvOf(`/v1/reports/events?${qs(w, {})}`), [['count'], [String(total.total)]]);

    const rev = revenueReportSchema.parse(await getJson(`/v1/reports/revenue?${qs(w, { groupBy: 'type' })}`));
    assert.deepEqual(await csvOf(`/v1/reports/revenue?${qs(w, { groupBy: 'type' })}`), [
      ['currency', 'type', 'revenue', 'events'],
      ...rev.currencies.flatMap((c) => (c.groups ?? []).map((g) => [c.currency, g.type ?? '', g.revenue, String(g.events)])),
    ]);
    const revTotal = revenueReportSchema.parse(await getJson(`/v1/reports/revenue?${qs(w, {})}`));
    assert.deepEqual(await csvOf(`/v1/reports/revenue?${qs(w, {})}`), [
      ['currency', 'revenue', 'events'],
      ...revTotal.currencies.map((c) => [c.currency, c.revenue, String(c.events)]),
    ]);

    const dem = demographicsReportSchema.parse(await getJson(`/v1/reports/demographics?${qs(w, { by: 'age' })}`));
    assert.deepEqual(await csvOf(`/v1/reports/demographics?${qs(w, { by: 'age' })}`), [
      ['age', 'users', 'events'],
      ...dem.groups.map((g) => [g.value ?? '', String(g.users), String(g.events)]),
    ]);
    assert.ok(ev.groups.length > 3 && rev.currencies.length > 1 && dem.groups.length > 3, 'the CSV compared real rows');
  }
});
