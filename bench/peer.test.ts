// The `peer` baseline on a small scale: a real Kafka Connect worker with Debezium's JDBC sink
// (fetched and cached by compose/local/connect.ts) takes the bench's own events, 10% of them
// sent twice, and events_peer must then hold exactly the distinct events, field for field.
// It checks that the peer works and upserts on the key, never how fast it is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSettings } from '../compose/local/index.ts';
import { createTestDatabase, type TestDatabase } from '../db/testing.ts';
import { requireServices, type ServiceUrls } from '../test/support/services.ts';
import { EnvelopeFactory, peer } from './baselines/peer.ts';
import { EventFactory } from './generate.ts';

let db: TestDatabase;
let urls: ServiceUrls;
before(async () => {
  urls = await requireServices();
  db = await createTestDatabase();
});
after(() => db?.drop());

const generator = { seed: 7, idPrefix: 'peer-t-', users: 50, zipf: 0.8, hotKeyShare: 0, now: () => Date.UTC(2026, 0, 2, 12) };

test('peer - the envelope carries the same event as the generator, flattened to the columns', () => {
  const plain = new EventFactory(generator).next();
  const env = new EnvelopeFactory(generator).next();
  const e = JSON.parse(`${plain.head}123${plain.tail}`) as { id: string; occurredAt: string | number; userId: string; properties: Record<string, unknown> };
  const m = JSON.parse(`${env.head}123${env.tail}`) as { schema: { fields: { field: string }[] }; payload: Record<string, unknown> };
  assert.equal(m.payload['id'], e.id);
  assert.equal(m.payload['occurred_at'], new Date(e.occurredAt).toISOString());
  assert.equal(m.payload['partition_key'], e.userId);
  assert.deepEqual(JSON.parse(String(m.payload['properties'])), e.properties);
  assert.deepEqual(Object.keys(m.payload), m.schema.fields.map((x) => x.field));
});

test('peer - Kafka Connect + JDBC sink stores exactly the distinct events once, resends upserted', { timeout: 600_000 }, async () => {
  const events = 2000;
  const services = { database: new URL(db.url).pathname.slice(1), redisPort: undefined, kafkaProperties: join(loadSettings(process.env).servicesDir, 'kafka', 'server.properties') };
  const r = await peer(db.sql, db.url, urls.kafkaBrokers, `keyflow.t.peer`, { events, dupRatio: 0.1, batch: 500, inFlight: 2, partitions: 4, tasks: 2, generator }, services);
  assert.equal(r.rows, events);
  assert.ok(r.messages > events, `some events were sent twice (${r.messages} messages)`);
  const rows = await db.sql<{ id: string; occurred_at: Date; user_id: string | null; properties: Record<string, unknown> | null; partition_key: string }[]>`
    select id, occurred_at, user_id, properties, partition_key from events_peer order by split_part(id, '-', 3)::int`;
  assert.deepEqual(rows.map((x) => x.id), Array.from({ length: events }, (_, i) => `peer-t-${i}`));
  // Field for field against the generator's own events (sentAt differs per send; drop it).
  const factory = new EventFactory(generator);
  for (const row of rows) {
    const t = factory.next();
    const e = JSON.parse(`${t.head}0${t.tail}`) as { occurredAt: string | number; userId: string; properties: Record<string, unknown> };
    const { sentAt: _sent, ...props } = row.properties ?? {};
    const { sentAt: _zero, ...want } = e.properties;
    assert.equal(row.occurred_at.getTime(), new Date(e.occurredAt).getTime(), row.id);
    assert.equal(row.user_id, e.userId, row.id);
    assert.equal(row.partition_key, e.userId, row.id);
    assert.deepEqual(props, want, row.id);
  }
});
