// No silent stop, measured through a real keyflow (`keyflow all`, one worker, two partitions,
// a private database/topic/group like the tests): a worker's consumer is made to crash as
// kafkajs does on an error it does not retry (restart: false), `crashes` times in a row, while
// events wait in both partitions. For each round it prints the time from the first crash (the
// worker's "consumer crashed" log line) to GET /readyz answering 503 for a stalled partition, to the first event
// produced after the crash being stored (consumption resumed), and to /readyz 200 again.
// /readyz is polled every 50 ms; KEYFLOW_STALL_MS is the stall window.
//
//   npx tsx bench/stall-recovery.ts [crashes=5] [stallMs=5000] [rounds=3]
import { getJson, postJson } from '../test/support/http.ts';
import { makeEvents } from '../test/support/events.ts';
import { produceEvents, testProducer } from '../test/support/kafka.ts';
import { isolate, startKeyflow } from '../test/support/keyflow.ts';

const [crashes = 5, stallMs = 5_000, rounds = 3] = process.argv.slice(2).map(Number);
const iso = await isolate({ KEYFLOW_FAULTS: '1', KEYFLOW_WORKERS: '1', KEYFLOW_PARTITIONS: '2', KEYFLOW_STALL_MS: String(stallMs), KEYFLOW_LOG_LEVEL: 'info' });
const kf = await startKeyflow(iso.env);
const producer = await testProducer();

const stored = async (prefix: string): Promise<number> => (await iso.db.sql<[{ n: number }]>`select count(*)::int as n from events where id like ${`${prefix}%`}`)[0].n;
async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 180_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return Date.now();
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const readyz = async (): Promise<number> => (await getJson(`${kf.url}/readyz`)).status;
/** True when /readyz is 503 because of a stalled partition (not a slow dependency check). */
const stalledReadyz = async (): Promise<boolean> => {
  const r = await getJson<{ checks?: Record<string, { ok: boolean }> }>(`${kf.url}/readyz`);
  return r.status === 503 && r.body.checks?.['partitions']?.ok === false;
};
/** The first "consumer crashed" log line written at or after `since`. */
function firstCrashAt(since: number): number | undefined {
  for (const m of kf.logs().matchAll(/"t":"([^"]+)","level":"error","msg":"consumer crashed"/g)) {
    const t = Date.parse(m[1]!);
    if (t >= since) return t;
  }
  return undefined;
}

try {
  const warm = makeEvents(20, { prefix: 'sr-warm', seed: 1 });
  await produceEvents(producer, iso.topic, warm);
  await until('warm-up stored', () => stored('sr-warm'), (n) => n === warm.length);
  await until('ready', readyz, (s) => s === 200);
  console.log(`stall-recovery: crashes=${crashes} in a row, KEYFLOW_STALL_MS=${stallMs}, ${rounds} rounds`);
  for (let round = 1; round <= rounds; round++) {
    const since = Date.now() - 5; // log timestamps are ms; the crash follows the injection
    const fault = await postJson(`${kf.url}/v1/admin/faults/workers/0/consumer-crash?count=${crashes}`, {});
    if (fault.status !== 202) throw new Error(`fault: ${fault.status} ${JSON.stringify(fault.body)}`);
    const events = makeEvents(10, { prefix: `sr-${round}-`, seed: 10 + round });
    await produceEvents(producer, iso.topic, events);
    const unreadyAt = await until('readyz 503 naming a partition', stalledReadyz, (s) => s);
    const resumedAt = await until('first event stored', () => stored(`sr-${round}-`), (n) => n > 0);
    await until('all stored', () => stored(`sr-${round}-`), (n) => n === events.length);
    const readyAt = await until('readyz 200', readyz, (s) => s === 200);
    const crashAt = firstCrashAt(since);
    if (crashAt === undefined) throw new Error('no "consumer crashed" line in the log');
    console.log(`round ${round}: crash → /readyz 503 ${unreadyAt - crashAt} ms; crash → consumption resumed ${resumedAt - crashAt} ms; crash → /readyz 200 ${readyAt - crashAt} ms`);
  }
} finally {
  await producer.disconnect();
  await kf.stop('SIGTERM');
  await iso.cleanup();
}
