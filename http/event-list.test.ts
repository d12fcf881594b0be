// GET /v1/events against a real store filled through flushBatch: paging with cursors yields
// every matching event once, newest first (occurredAt desc, id desc byte-wise), for every
// filter; a tampered or foreign cursor, a bad limit or an unknown parameter is a 400.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { partitionKeyOf, type KeyflowEvent } from '../actors/index.ts';
import { flushBatch, getEvent, getUserProfile, listDeadLetters, listEvents, reportEvents } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import type { QueryPort, StoredEvent } from './ports.ts';
import { appWith } from './test-helpers.ts';
import { newestFirst, userEvents } from './user-data.test-support.ts';

const FROM = Date.UTC(2026, 10, 20, 12);
let db: TestDatabase;
let app: ReturnType<typeof appWith>;
let events: KeyflowEvent[];
let queries: QueryPort;

type Page = { events: StoredEvent[]; nextCursor?: string; error?: { code: string; message: string; details?: { path: string }[] } };

before(async () => {
  db = await createTestDatabase();
  events = userEvents(700, { seed: 11, users: 6, fromMs: FROM });
  // In batches, with a third of them sent twice (a resend in a later batch): stored once.
  const batches = [events.slice(0, 300), [...events.slice(300, 700), ...events.slice(0, 250)]];
  for (const batch of batches) await flushBatch(db.sql, { events: batch, partitionKeys: batch.map((e) => partitionKeyOf(e)), deadLetters: [] });
  queries = {
    getEvent: (id) => getEvent(db.sql, id),
    reportEvents: (q) => reportEvents(db.sql, q),
    listDeadLetters: (q) => listDeadLetters(db.sql, q),
    listEvents: (q) => listEvents(db.sql, q),
    getUserProfile: (id) => getUserProfile(db.sql, id),
  };
  app = appWith({ queries, options: { cursorSecret: 'test-secret' } });
});
after(() => db?.drop());

async function get(query: string): Promise<{ status: number; body: Page }> {
  const res = await app.request(`/v1/events${query}`);
  return { status: res.status, body: (await res.json()) as Page };
}

/** Every page of a query, following nextCursor to the end. */
async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const params = [query, `limit=${limit}`, cursor === undefined ? '' : `cursor=${encodeURIComponent(cursor)}`].filter((p) => p !== '');
    const r = await get(`?${params.join('&')}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.events.length <= limit);
    if (r.body.nextCursor !== undefined) assert.equal(r.body.events.length, limit, 'only the last page is short');
    ids.push(...r.body.events.map((e) => `${e.id}@${e.occurredAt}`));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor !== undefined);
  return { ids, pages };
}

const key = (e: KeyflowEvent) => `${e.id}@${new Date(e.occurredAt).toISOString()}`;

test('GET /v1/events - paging through everything yields every stored event once, newest first with ties by id', async () => {
  const expected = [...events].sort(newestFirst).map(key);
  for (const limit of [1000, 97, 7]) {
    const { ids, pages } = await walk('', limit);
    assert.deepEqual(ids, expected, `limit ${limit}`);
    assert.equal(pages, Math.ceil(expected.length / limit), 'a full last page has no nextCursor: no empty page after it');
  }
});

test('GET /v1/events - filters by user, type and source lists and the window, each page in order, nothing twice', async () => {
  const at = (m: number) => new Date(FROM + m * 60_000);
  const cases: [string, (e: KeyflowEvent) => boolean][] = [
    ['userId=u-3', (e) => e.userId === 'u-3'],
    ['type=checkout.complete,refund', (e) => e.type === 'checkout.complete' || e.type === 'refund'],
    ['source=google', (e) => e.source === 'google'],
    ['userId=u-1&type=ad.view,page.view&source=facebook,tiktok', (e) => e.userId === 'u-1' && ['ad.view', 'page.view'].includes(e.type) && ['facebook', 'tiktok'].includes(e.source)],
    [`from=${at(10).toISOString()}&to=${at(20).getTime()}`, (e) => e.occurredAt >= at(10).getTime() && e.occurredAt < at(20).getTime()],
    [`userId=u-0&from=${at(5).getTime() + 1}`, (e) => e.userId === 'u-0' && e.occurredAt >= at(5).getTime() + 1],
    ['userId=nobody', () => false],
    ['type=Video.play', (e) => e.type === 'Video.play'],
  ];
  for (const [query, match] of cases) {
    const expected = events.filter(match).sort(newestFirst).map(key);
    assert.deepEqual((await walk(query, 13)).ids, expected, query);
  }
});

test('GET /v1/events - the default page is 100 events, at most 1000, and the last page has no nextCursor', async () => {
  const first = await get('');
  assert.equal(first.status, 200);
  assert.equal(first.body.events.length, 100);
  assert.equal(typeof first.body.nextCursor, 'string');
  const all = await get('?limit=1000');
  assert.equal(all.body.events.length, events.length);
  assert.equal('nextCursor' in all.body, false);
  const stored = all.body.events.find((e) => e.revenue !== undefined && e.user !== undefined && e.properties !== undefined);
  assert.ok(stored, 'some event carries every optional part');
  const original = events.find((e) => e.id === stored.id && new Date(e.occurredAt).toISOString() === stored.occurredAt);
  assert.deepEqual({ ...stored, receivedAt: undefined }, { ...original, occurredAt: stored.occurredAt, receivedAt: undefined });
});

test('GET /v1/events - a tampered, truncated, forged or foreign cursor is a 400 naming cursor', async () => {
  const page = await get('?userId=u-2&limit=5');
  const cursor = page.body.nextCursor;
  assert.ok(cursor !== undefined);
  const [payload = '', mac = ''] = cursor.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as [number, number, string];
  const forgedPayload = Buffer.from(JSON.stringify([decoded[0], decoded[1] - 60_000, decoded[2]])).toString('base64url');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  const bad: [string, string][] = [
    ['a flipped MAC character', `userId=u-2&cursor=${payload}.${flip(mac, 3)}`],
    ['a flipped payload character', `userId=u-2&cursor=${flip(payload, 2)}.${mac}`],
    ['an edited position with the old MAC', `userId=u-2&cursor=${forgedPayload}.${mac}`],
    ['no MAC', `userId=u-2&cursor=${payload}`],
    ['a truncated cursor', `userId=u-2&cursor=${cursor.slice(0, -4)}`],
    ['garbage', 'userId=u-2&cursor=hello'],
    ['another user', `userId=u-3&cursor=${encodeURIComponent(cursor)}`],
    ['no user filter', `cursor=${encodeURIComponent(cursor)}`],
    ['a window added', `userId=u-2&from=0&cursor=${encodeURIComponent(cursor)}`],
  ];
  for (const [what, query] of bad) {
    const r = await get(`?${query}`);
    assert.equal(r.status, 400, what);
    assert.equal(r.body.error?.code, 'invalid_query', what);
    assert.deepEqual(r.body.error?.details?.map((d) => d.path), ['cursor'], what);
  }
  const otherServer = appWith({ queries, options: { cursorSecret: 'another-secret' } });
  const foreign = await otherServer.request(`/v1/events?userId=u-2&cursor=${encodeURIComponent(cursor)}`);
  assert.equal(foreign.status, 400, "another server's secret");
  const sameFilters = await get(`?userId=u-2&limit=50&cursor=${encodeURIComponent(cursor)}`);
  assert.equal(sameFilters.status, 200, 'the limit may change between pages');
});

test('GET /v1/events - bad limits, instants and windows, and unknown parameters are 400s naming the parameter', async () => {
  for (const [query, path] of [
    ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=-1', 'limit'], ['limit=ten', 'limit'], ['limit=1.5', 'limit'],
    ['from=yesterday', 'from'], ['to=2026-13-01T00:00:00Z', 'to'], ['from=2026-11-20T13:00:00Z&to=2026-11-20T12:00:00Z', 'from'],
    ['userId=', 'userId'], [`userId=${'u'.repeat(129)}`, 'userId'], ['type=', 'type'], ['source=,', 'source'],
    ['user=u-1', 'user'], ['funnelStage=top', 'funnelStage'], ['offset=10', 'offset'],
  ] as const) {
    const r = await get(`?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.error?.code, 'invalid_query', query);
    assert.deepEqual(r.body.error?.details?.map((d) => d.path), [path], query);
  }
});

test('GET /v1/events - an event stored between two pages appears once, in its place', async () => {
  const first = await get('?userId=u-4&limit=10');
  const cursor = first.body.nextCursor;
  assert.ok(cursor !== undefined);
  const last = first.body.events.at(-1);
  assert.ok(last);
  // Older than the page's end: it belongs to a later page; newer: to the page already read.
  const older: KeyflowEvent = { id: 'late-older', type: 'page.view', source: 'web', userId: 'u-4', occurredAt: Date.parse(last.occurredAt) - 1 };
  const newer: KeyflowEvent = { id: 'late-newer', type: 'page.view', source: 'web', userId: 'u-4', occurredAt: FROM + 3_600_000 };
  await flushBatch(db.sql, { events: [older, newer], partitionKeys: ['u-4', 'u-4'], deadLetters: [] });
  try {
    const rest: string[] = [];
    let c: string | undefined = cursor;
    while (c !== undefined) {
      const r = await get(`?userId=u-4&limit=10&cursor=${encodeURIComponent(c)}`);
      rest.push(...r.body.events.map((e) => e.id));
      c = r.body.nextCursor;
    }
    assert.equal(rest.filter((id) => id === 'late-older').length, 1);
    assert.equal(rest.includes('late-newer'), false);
    const seen = [...first.body.events.map((e) => e.id), ...rest];
    assert.equal(new Set(seen).size, seen.length, 'nothing twice');
  } finally {
    await db.sql`delete from events where id in ('late-older', 'late-newer')`;
  }
});

test('GET /v1/events/:id - an id no event can have (NUL, lone surrogate, too long) is a 404, not a store error', async () => {
  for (const id of ['a%00b', '%ED%A0%80', 'i'.repeat(129)]) {
    const res = await app.request(`/v1/events/${id}`);
    assert.equal(res.status, 404, id);
  }
  const some = events[0];
  assert.ok(some);
  assert.equal((await app.request(`/v1/events/${encodeURIComponent(some.id)}`)).status, 200);
});
