import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyflowEvent, Pending } from '../../actors/index.ts';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import { createMetrics } from '../../otel/index.ts';
import { createLogger } from '../log/index.ts';
import { partsOf, storeBatch, type Meta } from './store-batch.ts';
import type { DeadLetterRow } from '../../db/index.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

const entry = (id: string, type: string, offset: number, bytes = 100): Pending<Meta> => ({
  key: id,
  event: { id, type, source: 's', occurredAt: Date.now() } as KeyflowEvent,
  meta: { partition: 0, offset: String(offset), span: undefined, receivedAtMs: Date.now(), bytes },
});
const deps = (flushMaxBytes = 8 * 1024 * 1024) => ({ sql: db.sql, config: { topic: 'keyflow.events', flushMaxBytes }, log: createLogger('silent'), metrics: createMetrics().metrics });

test('storeBatch - an event the store refuses is dead-lettered and the rest of its batch is stored', async () => {
  const { metrics } = createMetrics();
  // A NUL in text passes nothing in production (the schema refuses it); here it stands for any
  // event PostgreSQL refuses for its data.
  const entries = [entry('ok-1', 'ad.view', 1), entry('poison', 'bad\u0000type', 2), entry('ok-2', 'ad.click', 3)];
  const stored = await storeBatch({ ...deps(), metrics }, entries, []);
  assert.deepEqual([...stored].map((e) => e.id).sort(), ['ok-1', 'ok-2']);
  const rows = await db.sql<{ id: string }[]>`select id from events order by id`;
  assert.deepEqual(rows.map((r) => r.id), ['ok-1', 'ok-2']);
  const dead = await db.sql<{ reason: string; offset: string }[]>`select reason, "offset"::text as offset from dead_letters`;
  assert.deepEqual([...dead], [{ reason: 'store-rejected', offset: '2' }]);
  const [{ n }] = await db.sql<[{ n: number }]>`select coalesce(sum(events), 0)::int as n from rollups_minute`;
  assert.equal(n, 2);
});

test('storeBatch - a batch heavier than flushMaxBytes is cut into parts of at most that many bytes, in order, each holding at least one row', () => {
  const entries = [entry('a', 't', 1, 400), entry('b', 't', 2, 400), entry('c', 't', 3, 400), entry('huge', 't', 4, 5_000), entry('d', 't', 5, 100)];
  const dead: DeadLetterRow = { topic: 't', partition: 0, offset: '6', key: null, raw: new Uint8Array(600), reason: 'not-json', error: 'e' };
  const parts = partsOf(entries, [dead], 1_000);
  assert.deepEqual(parts.map((p) => [...p.entries.map((e) => e.event.id), ...p.deadLetters.map((d) => d.offset)]), [['a', 'b'], ['c'], ['huge'], ['d', '6']]);
});

test('storeBatch - a batch stored in parts is stored whole and reports every event inserted once; a replay reports none', async () => {
  await db.sql`truncate events, rollups_minute, dead_letters`;
  const entries = Array.from({ length: 30 }, (_, i) => entry(`part-${i}`, 'ad.view', 100 + i, 70_000));
  const dead: DeadLetterRow = { topic: 'keyflow.events', partition: 0, offset: '200', key: null, raw: new Uint8Array(60_000), reason: 'not-json', error: 'e' };
  const stored = await storeBatch(deps(256 * 1024), entries, [dead]);
  assert.equal(stored.size, 30);
  const [{ n, dl }] = await db.sql<[{ n: number; dl: number }]>`select (select count(*)::int from events) as n, (select count(*)::int from dead_letters) as dl`;
  assert.deepEqual({ n, dl }, { n: 30, dl: 1 });
  assert.equal((await storeBatch(deps(256 * 1024), entries, [dead])).size, 0);
});
