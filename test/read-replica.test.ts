// Reports may read from a replica (DATABASE_READ_URL): every read route of the edge answers
// through a read-only role's URL exactly as through the primary's, and writes (the flush,
// erasures) still go to DATABASE_URL. The stand-in for a streaming replica is a role with
// only CONNECT/USAGE/SELECT and `default_transaction_read_only=on`, so any write or temporary
// table sent over the read pool fails with 25006 instead of passing silently.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { connectDb, migrate, type Sql } from '../db/index.ts';
import { testDatabaseUrl } from '../db/testing.ts';
import { chunks, makeEvents } from './support/events.ts';
import { getJson, postJson } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

let iso: Isolated;
/** `keyflow all` with DATABASE_READ_URL = the read-only role: its workers flush to the primary. */
let replica: KeyflowProcess;
/** `keyflow edge` on the primary only: the answers to compare with. */
let primary: KeyflowProcess;
let readOnly: Sql;
const role = `kf_ro_${randomBytes(4).toString('hex')}`;
const now = Date.now();
const events = makeEvents(400, { prefix: 'ro', seed: 21, now, spanMs: 3 * 86_400_000, users: 40 });

async function until<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, deadlineMs = 90_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${deadlineMs} ms; last saw ${JSON.stringify(last).slice(0, 500)}`);
    await sleep(200);
  }
}

before(async () => {
  // One cursor secret for both edges, so their event-list pages are comparable byte for byte.
  iso = await isolate({ KEYFLOW_WORKERS: '1', KEYFLOW_CURSOR_SECRET: randomBytes(24).toString('base64url') });
  await migrate(iso.db.sql);
  const db = new URL(iso.db.url).pathname.slice(1);
  const password = randomBytes(12).toString('hex');
  await iso.db.sql.unsafe(`create role ${role} login password '${password}'`);
  await iso.db.sql.unsafe(`alter role ${role} set default_transaction_read_only = on`);
  await iso.db.sql.unsafe(`grant connect on database ${db} to ${role}`);
  await iso.db.sql.unsafe(`grant usage on schema public to ${role}`);
  await iso.db.sql.unsafe(`grant select on all tables in schema public to ${role}`);
  // Partitions and tables made later (maintenance) are readable too, as on a real replica.
  await iso.db.sql.unsafe(`alter default privileges in schema public grant select on tables to ${role}`);
  const ro = new URL(iso.db.url);
  ro.username = role;
  ro.password = password;
  readOnly = connectDb(ro.toString(), { max: 1 });
  await iso.db.sql`insert into dead_letters (topic, partition, "offset", raw, reason, error) values (${iso.topic}, 0, 7, ${Buffer.from('{oops')}, 'invalid_json', 'Unexpected token o')`;
  replica = await startKeyflow({ ...iso.env, DATABASE_READ_URL: ro.toString() }, 'all');
  primary = await startKeyflow(iso.env, 'edge');
});

after(async () => {
  await replica?.stop('SIGTERM');
  await primary?.stop('SIGTERM');
  await readOnly?.end({ timeout: 1 });
  await iso?.cleanup();
  // The database (and its grants) is gone: the role owns nothing any more.
  const admin = connectDb(testDatabaseUrl(), { max: 1 });
  await admin.unsafe(`drop role if exists ${role}`).finally(() => admin.end({ timeout: 1 }));
});

test('the read-only role cannot write: the stand-in replica refuses what a replica refuses', async () => {
  await assert.rejects(readOnly`insert into dead_letters (topic, partition, "offset", reason, error) values ('x', 0, 1, 'r', 'e')`, (e: { code?: string }) => e.code === '25006' || e.code === '42501');
  await assert.rejects(readOnly`create temporary table t (x int)`, (e: { code?: string }) => e.code === '25006' || e.code === '42501');
});

test('writes go to the primary and every read route answers through DATABASE_READ_URL as through the primary', async () => {
  for (const batch of chunks(events, 100)) {
    const r = await postJson(`${replica.url}/v1/events`, { events: batch });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  // The flush wrote through DATABASE_URL; the read pool sees the rows it wrote.
  const from = new Date(now - 4 * 86_400_000).toISOString();
  const to = new Date(now + 60_000).toISOString();
  const w = `from=${from}&to=${to}`;
  await until('all events readable through the read-only pool', () => getJson<{ total: number }>(`${replica.url}/v1/reports/events?${w}`), (r) => r.status === 200 && r.body.total === events.length);
  const user = events[0]!.userId!;
  const paths = [
    `/v1/reports/events?groupBy=type,source&${w}`,
    `/v1/reports/revenue?groupBy=source&${w}`,
    `/v1/reports/demographics?by=country&${w}`,
    `/v1/analytics/timeseries?interval=1h&${w}`,
    `/v1/analytics/timeseries?interval=1d&tz=Asia/Kathmandu&${w}`,
    `/v1/analytics/funnel?steps=ad.view,ad.click,checkout.complete&window=1d&${w}`,
    `/v1/users/${encodeURIComponent(user)}`,
    `/v1/events?${w}&limit=50`,
    `/v1/events?userId=${encodeURIComponent(user)}&${w}&limit=50`,
    `/v1/events/${encodeURIComponent(events[1]!.id)}`,
    '/v1/dead-letters',
  ];
  for (const p of paths) {
    const viaReplica = await getJson(`${replica.url}${p}`);
    const viaPrimary = await getJson(`${primary.url}${p}`);
    assert.equal(viaReplica.status, 200, `${p}: ${JSON.stringify(viaReplica.body).slice(0, 300)}`);
    assert.deepEqual(viaReplica.body, viaPrimary.body, p);
  }
  const deadLetters = (await getJson<{ deadLetters?: unknown[]; items?: unknown[] }>(`${replica.url}/v1/dead-letters`)).body;
  assert.equal(JSON.stringify(deadLetters).includes('invalid_json'), true, 'the dead letter written to the primary is listed');
  // The reads really went through the read-only role.
  const [seen] = await iso.db.sql<[{ n: number }]>`select count(*)::int as n from pg_stat_activity where usename = ${role} and application_name = 'keyflow-reads'`;
  assert.ok(seen.n > 0, 'the edge holds read connections as the read-only role');
  // An erasure through the replica-reading edge is written to the primary.
  const erase = await fetch(`${replica.url}/v1/users/${encodeURIComponent(user)}`, { method: 'DELETE' });
  assert.equal(erase.status, 202, await erase.text());
  await until('the erasure applied on the primary', async () => (await iso.db.sql<{ n: number }[]>`select count(*)::int as n from events where user_id = ${user}`)[0]!.n, (n) => n === 0);
  const gone = await getJson(`${replica.url}/v1/users/${encodeURIComponent(user)}`);
  assert.equal(gone.status, 404, JSON.stringify(gone.body));
});
