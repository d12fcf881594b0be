import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyflowEvent, Pending } from '../../actors/index.ts';
import { createTestDatabase, type TestDatabase } from '../../db/testing.ts';
import { createMetrics } from '../../otel/index.ts';
import { createLogger } from '../log/index.ts';
import { storeBatch, type Meta } from './store-batch.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(() => db?.drop());

const entry = (id: string, type: string, offset: number): Pending<Meta> => ({
  key: id,
  event: { id, type, source: 's', occurredAt: Date.now() } as KeyflowEvent,
  meta: { partition: 0, offset: String(offset), span: undefined, receivedAtMs: Date.now() },
});

test('storeBatch - an event the store refuses is dead-lettered and the rest of its batch is stored', async () => {
  const { metrics } = createMetrics();
  // A NUL in text passes nothing in production (the schema refuses it); here it stands for any
  // event PostgreSQL refuses for its data.
  const entries = [entry('ok-1', 'ad.view', 1), entry('poison', 'bad\u0000type', 2), entry('ok-2', 'ad.click', 3)];
  const stored = await storeBatch({ sql: db.sql, config: { topic: 'keyflow.events' }, log: createLogger('silent'), metrics }, entries, []);
  assert.deepEqual([...stored].map((e) => e.id).sort(), ['ok-1', 'ok-2']);
  const rows = await db.sql<{ id: string }[]>`select id from events order by id`;
  assert.deepEqual(rows.map((r) => r.id), ['ok-1', 'ok-2']);
  const dead = await db.sql<{ reason: string; offset: string }[]>`select reason, "offset"::text as offset from dead_letters`;
  assert.deepEqual([...dead], [{ reason: 'store-rejected', offset: '2' }]);
  const [{ n }] = await db.sql<[{ n: number }]>`select coalesce(sum(events), 0)::int as n from rollups_minute`;
  assert.equal(n, 2);
});
