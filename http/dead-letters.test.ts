// GET /v1/dead-letters against a real store: pages newest first without gaps or repeats,
// carries the raw bytes, and answers 400 for a bad limit or a cursor it never handed out.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { flushBatch, getEvent, listDeadLetters, type DeadLetterRow } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import type { DeadLetterPage } from './ports.ts';
import { openApiDocument } from './app.ts';
import { parseDeadLetterQuery } from './routes/dead-letters.ts';
import { appWith, queriesMustNotBeCalled } from './test-helpers.ts';

let db: TestDatabase;
let app: ReturnType<typeof appWith>;
const letters: DeadLetterRow[] = Array.from({ length: 7 }, (_, i) => ({
  topic: 'keyflow.events',
  partition: i % 3,
  offset: String(100 + i),
  key: i === 0 ? null : new TextEncoder().encode(`k-${i}`),
  raw: i === 1 ? null : Uint8Array.from([0x7b, 0xff, 0x00, 0x22, ...new TextEncoder().encode(`message ${i} ✓`)]),
  reason: i % 2 === 0 ? 'not-json' : 'schema',
  error: `error ${i}`,
}));

before(async () => {
  db = await createTestDatabase();
  // One flush per letter, oldest first, so that "newest first" is the reverse of this list.
  for (const d of letters) await flushBatch(db.sql, { events: [], partitionKeys: [], deadLetters: [d] });
  app = appWith({ queries: { ...queriesMustNotBeCalled, getEvent: (id) => getEvent(db.sql, id), listDeadLetters: (q) => listDeadLetters(db.sql, q) } });
});
after(() => db?.drop());

async function page(query: string): Promise<{ status: number; body: DeadLetterPage & { error?: { code: string; message: string } } }> {
  const res = await app.request(`/v1/dead-letters${query}`);
  return { status: res.status, body: (await res.json()) as DeadLetterPage & { error?: { code: string; message: string } } };
}

test('GET /v1/dead-letters - pages of 3 walk every dead letter once, newest first, and the last page has no next cursor', async () => {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await page(`?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    assert.equal(r.status, 200);
    assert.ok(r.body.items.length <= 3);
    seen.push(...r.body.items.map((d) => d.offset));
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor !== null);
  assert.equal(pages, 3);
  assert.deepEqual(seen, letters.map((d) => d.offset).reverse());
});

test('GET /v1/dead-letters - each item carries its place, why, and the raw key and value bytes', async () => {
  const r = await page('');
  assert.equal(r.status, 200);
  assert.equal(r.body.items.length, 7, 'the default limit covers them all');
  const byOffset = new Map(r.body.items.map((d) => [d.offset, d]));
  const third = byOffset.get('102');
  assert.ok(third);
  assert.deepEqual({ ...third, id: undefined, createdAt: undefined }, {
    id: undefined, createdAt: undefined, topic: 'keyflow.events', partition: 2, offset: '102',
    key: Buffer.from('k-2').toString('base64'), raw: Buffer.from(letters[2]!.raw!).toString('base64'),
    rawPreview: '{\ufffd\u0000"message 2 ✓', reason: 'not-json', error: 'error 2',
    lastOffset: null, rawLength: letters[2]!.raw!.byteLength, rawTruncated: false,
    rawSha256: createHash('sha256').update(letters[2]!.raw!).digest('hex'),
  });
  assert.ok(!Number.isNaN(Date.parse(third.createdAt)));
  assert.equal(byOffset.get('100')?.key, null);
  assert.deepEqual([byOffset.get('101')?.raw, byOffset.get('101')?.rawPreview], [null, null]);
});

test('GET /v1/dead-letters - a bad limit, an unknown parameter or a cursor it never handed out is a 400 naming the parameter', async () => {
  for (const [query, path] of [
    ['?limit=0', 'limit'], ['?limit=1001', 'limit'], ['?limit=ten', 'limit'], ['?limit=-1', 'limit'],
    ['?offset=5', 'offset'], ['?cursor=bm90LWEtY3Vyc29y', 'cursor'], [`?cursor=${Buffer.from('dl1:99999999999999999999').toString('base64url')}`, 'cursor'],
  ] as const) {
    const r = await page(query);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.error?.code, 'invalid_query', query);
    assert.match(r.body.error?.message ?? '', new RegExp(`^${path}`), query);
  }
});

test('GET /v1/dead-letters - the published cursor pattern is exactly the cursors the store hands out (up to 16 digits)', () => {
  const op = openApiDocument().paths['/v1/dead-letters']?.['get'] as { parameters: { name: string; schema: { pattern?: string } }[] };
  const pattern = op.parameters.find((p) => p.name === 'cursor')?.schema.pattern;
  assert.ok(pattern !== undefined, 'the cursor has a published pattern');
  const re = new RegExp(pattern, 'u');
  // Every cursor of 1..16 digits (leading zeros too) is published as valid and parses.
  fc.assert(fc.property(fc.stringMatching(/^\d{1,16}$/), (digits) => {
    const cursor = Buffer.from(`dl1:${digits}`).toString('base64url');
    return re.test(cursor) && parseDeadLetterQuery({ cursor }).cursor === cursor;
  }), { seed: 20261207, numRuns: 2000 });
  // Every string the pattern admits is such a cursor.
  fc.assert(fc.property(fc.stringMatching(re), (cursor) => /^dl1:\d{1,16}$/.test(Buffer.from(cursor, 'base64url').toString('latin1')) && Buffer.from(Buffer.from(cursor, 'base64url')).toString('base64url') === cursor), { seed: 20261207, numRuns: 2000 });
});
