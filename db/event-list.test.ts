// listEvents against a real store: the order is total (ties in occurredAt by id, byte-wise,
// whatever the collation) and a position resumes strictly after itself. The route's paging,
// filters and cursors are tested through HTTP in http/event-list.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KeyflowEvent } from '../actors/index.ts';
import { flushBatch } from './flush.ts';
import { listEvents } from './event-list.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

let db: TestDatabase;
const T = Date.UTC(2026, 10, 20, 12);
// One instant, ids whose byte order differs from a locale's: 'B' < 'a' < 'z' < 'Ä' < 'é'.
const ids = ['a', 'B', 'z', 'é', 'Ä', 'a1'];
const events: KeyflowEvent[] = [...ids.map((id) => ({ id, type: 't', source: 's', occurredAt: T })), { id: 'older', type: 't', source: 's', occurredAt: T - 1 }];

before(async () => {
  db = await createTestDatabase();
  await flushBatch(db.sql, { events, partitionKeys: events.map((e) => e.id), deadLetters: [] });
});
after(() => db?.drop());

test('listEvents - ties in occurredAt are ordered by id descending, byte-wise, and a page resumes strictly after its last event', async () => {
  const all = await listEvents(db.sql, { limit: 1000 });
  assert.deepEqual(all.events.map((e) => e.id), ['é', 'Ä', 'z', 'a1', 'a', 'B', 'older']);
  assert.equal(all.next, undefined);
  const first = await listEvents(db.sql, { limit: 3 });
  assert.deepEqual(first.events.map((e) => e.id), ['é', 'Ä', 'z']);
  assert.deepEqual(first.next, { occurredAt: new Date(T), id: 'z' });
  const rest = await listEvents(db.sql, { limit: 3, after: first.next! });
  assert.deepEqual(rest.events.map((e) => e.id), ['a1', 'a', 'B']);
  const last = await listEvents(db.sql, { limit: 3, after: rest.next! });
  assert.deepEqual([last.events.map((e) => e.id), last.next], [['older'], undefined]);
});

test('listEvents - a limit outside 1..1000 is a RangeError, and empty type or source lists match nothing', async () => {
  for (const limit of [0, 1001, 1.5]) await assert.rejects(listEvents(db.sql, { limit }), RangeError);
  assert.deepEqual(await listEvents(db.sql, { limit: 10, type: [] }), { events: [] });
  assert.deepEqual(await listEvents(db.sql, { limit: 10, source: [] }), { events: [] });
});
