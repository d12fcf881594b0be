// keyflow killed with SIGKILL five times, at random moments of a stream, and started again
// each time; clients retry whatever was refused or left unanswered. At the end every event
// is stored once and counted once — events, rollups, users and the report agree.
//
//   FAULTS_KILL_EVENTS=100000 npm test -- test/faults-kill   the size of the issue (default 20,000)
//   FAULTS_SEED=123 …                                        replay the kill moments of a run
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chunks, expectedGroups, makeEvents, prng } from './support/events.ts';
import { eventually, getJson, sendBatches } from './support/http.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

type Report = { total: number; groups: { type: string; source: string; funnelStage: string | null; count: number }[] };

const EVENTS = Number(process.env['FAULTS_KILL_EVENTS'] ?? 20_000);
const KILLS = 5;
const SEED = Number(process.env['FAULTS_SEED'] ?? Date.now() % 1_000_000_007);

let iso: Isolated;
let kf: KeyflowProcess;

before(async () => {
  // Flushes every 300 ms keep events pending in memory, so kills land between consume and store.
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '300' });
  kf = await startKeyflow(iso.env);
});

after(async () => {
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

async function stored(): Promise<{ rows: number; rolledUp: number; users: number }> {
  const [r] = await iso.db.sql<[{ rows: number; rolled: number; users: number }]>`
    select (select count(*)::int from events) as rows,
      (select coalesce(sum(events), 0)::int from rollups_minute) as rolled,
      (select coalesce(sum(events), 0)::int from users) as users`;
  return { rows: r.rows, rolledUp: r.rolled, users: r.users };
}

test(`faults - keyflow killed with SIGKILL ${KILLS} times at random moments of a stream of ${EVENTS} events: every event stored and counted once`, async (t) => {
  t.diagnostic(`seed ${SEED} (FAULTS_SEED=${SEED} replays these kill moments)`);
  const rnd = prng(SEED);
  const now = Date.now();
  const events = makeEvents(EVENTS, { prefix: 'kill', seed: 13, now, users: 1_000 });
  // Originals and exact retries interleaved, 10% resent.
  const resent = events.filter((_, i) => i % 10 === 5);
  const batches = chunks(events, 250).flatMap((b, i) => [b, resent.slice(i * 25, i * 25 + 25)].filter((x) => x.length > 0));

  // The kill moments: when the store holds a random share (5–75%) of the stream, plus a random
  // 0–500 ms, so each lands while events are in flight everywhere (HTTP, Kafka, memory, a flush).
  // After a restart keyflow can catch up within those 500 ms, so a late kill may find the
  // stream complete; most kills must still land mid-stream.
  const shares = Array.from({ length: KILLS }, () => 0.05 + rnd() * 0.7).sort((x, y) => x - y);
  let midStream = 0;
  const sending = sendBatches(() => kf.url, batches, 4, 600_000);
  for (const [k, share] of shares.entries()) {
    await eventually(stored, (s) => s.rows >= share * EVENTS, 120_000, 20);
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 500)));
    const before = await stored();
    const killed = await kf.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    t.diagnostic(`kill ${k + 1} at ${Math.round(share * 100)}%: ${before.rows} events stored`);
    if (before.rows < EVENTS) midStream++;
    kf = await startKeyflow(iso.env);
  }
  assert.ok(midStream >= Math.ceil(KILLS / 2), `${midStream} of ${KILLS} kills landed in the middle of the stream`);
  const { retries } = await sending;
  assert.ok(retries > 0, 'clients had to retry across the kills');

  const window = `from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 120_000).toISOString()}`;
  const report = async () => (await getJson<Report>(`${kf.url}/v1/reports/events?${window}&groupBy=type,source,funnelStage`)).body;
  const got = await eventually(report, (r) => r.total >= EVENTS, 180_000, 250);
  assert.equal(got.total, EVENTS);
  assert.deepEqual(new Map(got.groups.map((g) => [`${g.type}|${g.source}|${g.funnelStage}`, g.count])), expectedGroups(events));
  await new Promise((r) => setTimeout(r, 1_000));
  assert.deepEqual(await stored(), { rows: EVENTS, rolledUp: EVENTS, users: EVENTS });
  assert.equal((await report()).total, EVENTS);
});
