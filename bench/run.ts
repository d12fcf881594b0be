// One scenario from start to finish: start an isolated keyflow, run the scenario's phases
// through it, check exactness, stop it, then run the baselines on the same topic and rows
// with the machine to themselves, and gather everything into one BenchResult.
//
// Rule: keyflow is stopped before any baseline runs, and baselines run one after the other,
// so no two measured things ever share the CPU.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { serviceUrls, testEnv } from '../test/support/services.ts';
import type { BenchOptions, ScenarioName } from './args.ts';
import { naive } from './baselines/naive.ts';
import { peer } from './baselines/peer.ts';
import { rawKafka } from './baselines/raw-kafka.ts';
import { rawPostgres } from './baselines/raw-postgres.ts';
import { checkExactness } from './exactness.ts';
import { ensureServices, startBenchKeyflow } from './keyflow.ts';
import { gitState, machine } from './machine.ts';
import { latency, latencyBySecond, RollupPoller, storeFacts, transactionTimes, type LatencyFilter, type LatencyStats } from './measure.ts';
import { runPhase, type PhaseContext } from './phase.ts';
import { runServices } from './cpu.ts';
import { MetricsScraper, type ScrapePoint } from './scrape.ts';
import { summarizeProfiles, type ProfileSummary } from './profile.ts';
import type { Progress } from './progress.ts';
import type { BenchResult, PhaseResult, Timeline } from './result.ts';
import { scenario as scenarioOf } from './scenarios.ts';
import { HOT_KEY } from './generate.ts';
import { kafkaSender, type Sender } from './send.ts';
import { startVisibilityPoller } from './visibility.ts';

export const LATENCY_METHOD =
  'per event: (first time a pg_current_snapshot() poll, every ~5 ms from a separate thread, shows the transaction that inserted the row committed) − properties.sentAt (stamped when the message was handed to Kafka/HTTP); never early, late by at most one poll';

export async function runScenario(o: BenchOptions, name: ScenarioName, progress: Progress, command: string): Promise<BenchResult> {
  const sc = scenarioOf(name, o);
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const tag = randomBytes(4).toString('hex');
  await ensureServices((l) => progress.say(l));
  const env = { KEYFLOW_PARTITIONS: '12', KEYFLOW_WORKERS: String(availableParallelism()), ...o.keyflowEnv };
  const profDir = o.cpuProf ? join(o.outDir, 'prof', `${name}-${stamp}`) : undefined;
  progress.say(`${name}: starting keyflow (isolated database, topic and group)`);
  const buildDir = o.build ? join(o.outDir, 'build') : undefined;
  const kf = await startBenchKeyflow({ env, ...(profDir !== undefined && { cpuProfDir: profDir }), ...(buildDir !== undefined && { buildDir }) });
  const { sql } = kf.iso.db;
  const urls = serviceUrls(testEnv());
  let kafka: Sender | undefined;
  let keyflowStopped = false;
  try {
    const mach = await machine(sql, urls.redisUrl);
    const rollups = new RollupPoller(sql).start();
    const scraper = new MetricsScraper(kf.url);
    const vis = await startVisibilityPoller(kf.iso.db.url);
    const sends: { t: number; n: number }[] = [];
    const services = runServices(kf.iso.db.url, urls.redisUrl);
    const expected: Record<string, number> = {};
    const ctx = (): PhaseContext => ({
      tag, url: kf.url, users: o.users, zipf: o.zipf, timeoutSeconds: o.timeoutSeconds, rollups, sampler: kf.sampler, scraper, keyflowPid: kf.pid, services, progress, sends,
      countedBefore: Object.values(expected).reduce((a, b) => a + b, 0),
      kafka: async () => (kafka ??= await kafkaSender(urls.kafkaBrokers, kf.iso.topic, o.codec)),
    });
    const phases: PhaseResult[] = [];
    const runOne = async (spec: Parameters<typeof runPhase>[1]): Promise<PhaseResult> => {
      progress.say(`${name}: phase ${spec.name} — ${spec.events !== undefined ? `${spec.events.toLocaleString('en-US')} events` : `${(spec.durationMs ?? 0) / 1000} s`} at ${spec.rate === 'max' ? 'max rate' : `${spec.rate.toLocaleString('en-US')}/s`} via ${spec.via}`);
      let r: PhaseResult;
      try {
        r = await runPhase(ctx(), spec);
      } catch (e) {
        // What keyflow said last is usually why the phase failed.
        throw new Error(`${(e as Error).message}\nkeyflow's log ends:\n${kf.process.logs().slice(-4000)}`, { cause: e });
      }
      expected[spec.name] = r.distinct;
      phases.push(r);
      progress.say(`${name}: phase ${spec.name} — ${r.incomplete ?? `${Math.round(r.eventsPerSec).toLocaleString('en-US')} events/s end to end`}`);
      return r;
    };
    for (const spec of sc.throughput) if (phases.every((p) => p.incomplete === undefined)) await runOne(spec);
    const tp = [...phases];
    const tpMs = tp.reduce((a, p) => a + Math.max(1, (p.countedAt ?? Date.now()) - p.firstSentAt), 0);
    const tpMessages = tp.reduce((a, p) => a + p.messages, 0);
    const tpRows = tp.reduce((a, p) => a + p.distinct, 0);
    const measured = (tpMessages / tpMs) * 1000;
    if (sc.next !== undefined && phases.every((p) => p.incomplete === undefined)) await runOne(sc.next(measured));

    // Late arrivals would show here: nothing may be counted after the last phase was complete.
    await new Promise((r) => setTimeout(r, 1_000));
    await rollups.poll();
    rollups.stop();
    const facts = await storeFacts(sql, tag);
    const firstPhase = Object.keys(expected)[0];
    const judged = { ...expected, ...(firstPhase !== undefined && { [firstPhase]: (expected[firstPhase] ?? 0) + o.expectOffset }) };
    const exactness = checkExactness(judged, facts);

    kf.sampler.sample();
    scraper.stop();
    const stopped = await kf.process.stop('SIGTERM');
    keyflowStopped = true;
    kf.sampler.stop();
    await kafka?.close();
    kafka = undefined;

    progress.say(`${name}: measuring latency`);
    const visMap = await vis.stop();
    const tx = await transactionTimes(sql, visMap);
    const lat = (f: LatencyFilter): Promise<LatencyStats> => latency(sql, tx, f);
    const windowOf = (ps: readonly PhaseResult[]) => ({ fromMs: Math.min(...ps.map((p) => p.firstSentAt)), toMs: Math.max(...ps.map((p) => p.lastAckedAt)) });
    const withLatency: PhaseResult[] = [];
    for (const p of phases) {
      const f = { ...windowOf([p]), idPrefix: `${tag}-${p.name}-` };
      withLatency.push({
        ...p,
        latency: await lat(f),
        ...(name === 'hotkey' && { hotKey: await lat({ ...f, key: { eq: HOT_KEY } }), otherKeys: await lat({ ...f, key: { ne: HOT_KEY } }) }),
      });
    }
    const headlinePhases = sc.latencyPhase === 'throughput' ? withLatency.slice(0, tp.length) : withLatency.filter((p) => p.name === sc.latencyPhase);
    const headline = headlinePhases.length === 1 ? headlinePhases[0]?.latency : headlinePhases.length > 0 ? await lat(windowOf(headlinePhases)) : undefined;
    const t0 = phases[0]?.firstSentAt ?? Date.now();
    const bySec = await latencyBySecond(sql, tx, t0);

    let profile: ProfileSummary | undefined;
    if (profDir !== undefined) {
      try {
        profile = summarizeProfiles(profDir);
      } catch (e) {
        progress.say(`could not summarize CPU profiles in ${profDir}: ${(e as Error).message}`);
      }
    }

    const totalMessages = phases.reduce((a, p) => a + p.messages, 0);
    const totalDistinct = phases.reduce((a, p) => a + p.distinct, 0);
    const rk = o.baselines.has('kafka') ? Math.min(totalMessages, o.kafkaSample ?? totalMessages) : 0;
    const rn = o.baselines.has('naive') ? Math.min(totalMessages, o.naiveSample) : 0;
    // A baseline that fails or hangs is reported and leaves its figure null; the run then fails.
    const baselineErrors: string[] = [];
    const baseline = async <T>(what: string, f: () => Promise<T>): Promise<T | null> => {
      progress.say(`${name}: baseline ${what}`);
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([f(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no result within 240 s')), 240_000)))]);
      } catch (e) {
        baselineErrors.push(`${what}: ${(e as Error).message}`);
        progress.say(`${name}: baseline ${what} FAILED — ${(e as Error).message}`);
        return null;
      } finally {
        clearTimeout(timer);
      }
    };
    const rawK = rk > 0 ? await baseline(`raw Kafka — a bare consumer reads ${rk.toLocaleString('en-US')} messages`, async () => ({ ...(await rawKafka(urls.kafkaBrokers, kf.iso.topic, rk)), sampled: rk < totalMessages })) : null;
    const rawP = o.baselines.has('postgres')
      ? await baseline(`raw Postgres — COPY of ${Math.min(totalDistinct, o.copySample).toLocaleString('en-US')} stored rows`, async () => ({ ...(await rawPostgres(sql, kf.iso.db.connect({ max: 1 }), o.copySample)), sampled: o.copySample < totalDistinct }))
      : null;
    const nv = rn > 0 ? await baseline(`naive — eachMessage + one INSERT per event, ${rn.toLocaleString('en-US')} events`, async () => ({ ...(await naive(kf.iso.db.connect({ max: 1 }), urls.kafkaBrokers, kf.iso.topic, rn)), sampled: rn < totalMessages })) : null;

    const first = sc.throughput[0];
    const peerEvents = sc.throughput.reduce((a, p) => a + (p.events ?? 0), 0);
    const pr = o.baselines.has('peer') && first !== undefined && peerEvents > 0
      ? await baseline(`peer — Kafka Connect + Debezium JDBC sink (upsert), the same ${peerEvents.toLocaleString('en-US')} events`, () =>
        peer(kf.iso.db.connect({ max: 2 }), kf.iso.db.url, urls.kafkaBrokers, kf.iso.topic, {
          events: peerEvents, dupRatio: first.dupRatio, batch: first.batch, inFlight: first.inFlight,
          partitions: Number(env['KEYFLOW_PARTITIONS'] ?? 12), tasks: Number(env['KEYFLOW_WORKERS'] ?? availableParallelism()),
          generator: { seed: first.seed, idPrefix: `${tag}-${first.name}-`, users: o.users, zipf: o.zipf, hotKeyShare: first.hotKeyShare },
        }, services))
      : null;

    const keyflowPerSec = (tpMessages / tpMs) * 1000;
    const rowsPerSec = (tpRows / tpMs) * 1000;
    const over = withLatency.find((p) => p.name === 'over');
    const timeline = buildTimeline(t0, sends, rollups.points, kf.sampler.samples, scraper.points, withLatency, bySec);
    return {
      scenario: name,
      description: sc.description,
      events: tpRows,
      totalEvents: totalDistinct,
      messages: totalMessages,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command,
      machine: mach,
      config: {
        via: sc.via, rate: o.rate, seed: o.seed, users: o.users, zipf: o.zipf, dupRatio: sc.throughput[0]?.dupRatio ?? 0, hotKeyShare: sc.throughput[0]?.hotKeyShare ?? 0,
        batch: sc.throughput[0]?.batch, clients: o.clients, keyflowRunsAs: o.build ? 'compiled JavaScript (tsc)' : 'TypeScript through tsx', git: gitState(), latencySeconds: o.latencySeconds, overloadSeconds: o.overloadSeconds, keyflowEnv: env, tag, topic: kf.iso.topic,
      },
      keyflow: {
        eventsPerSec: keyflowPerSec,
        rowsPerSec,
        durationMs: tpMs,
        p50Ms: headline?.p50Ms ?? 0,
        p95Ms: headline?.p95Ms ?? 0,
        p99Ms: headline?.p99Ms ?? 0,
        maxMs: headline?.maxMs ?? 0,
        latencyPhase: sc.latencyPhase === 'throughput' ? tp.map((p) => p.name).join('+') : sc.latencyPhase,
        latencyMethod: LATENCY_METHOD,
        latencyResolutionMs: Math.round(visMap.pollIntervalMs * 10) / 10,
        peakRssMiB: kf.sampler.peakRssMiB(),
        cpuSeconds: tp.reduce((a, p) => a + p.cpuSeconds, 0),
        startMs: kf.startMs,
        exitCode: stopped.code,
        phases: withLatency,
        ...(over !== undefined && {
          overload: {
            targetRatePerSec: typeof over.rate === 'number' ? over.rate : 0,
            achievedSendRatePerSec: over.sendRatePerSec,
            seconds: o.overloadSeconds,
            peakRssMiB: over.peakRssMiB,
            peakHeapMiB: scraper.peakThreadHeapMiB(over.firstSentAt, over.countedAt ?? over.lastAckedAt),
            lost: Math.max(0, exactness.expected - exactness.stored),
            drainMs: over.countedAt === undefined ? undefined : over.countedAt - over.lastAckedAt,
          },
        }),
      },
      rawKafka: rawK,
      rawPostgres: rawP,
      naive: nv,
      peer: pr,
      ratios: {
        vsNaive: nv ? keyflowPerSec / nv.eventsPerSec : null,
        vsRawPostgres: rawP ? rowsPerSec / rawP.rowsPerSec : null,
        vsRawKafka: rawK ? keyflowPerSec / rawK.eventsPerSec : null,
        vsPeer: pr ? rowsPerSec / pr.rowsPerSec : null,
      },
      exactness,
      baselineErrors,
      timeline,
      ...(profile !== undefined && { profile }),
    };
  } finally {
    await kafka?.close().catch(() => undefined);
    if (!keyflowStopped) await kf.process.stop('SIGTERM').catch(() => undefined);
    kf.sampler.stop();
    if (o.keep) progress.say(`${name}: kept database ${kf.iso.db.url} and topic ${kf.iso.topic}`);
    else await kf.iso.cleanup();
  }
}

function buildTimeline(
  t0: number,
  sends: readonly { t: number; n: number }[],
  counts: readonly { t: number; n: number }[],
  samples: readonly { t: number; rssKiB: number }[],
  scraped: readonly ScrapePoint[],
  phases: readonly PhaseResult[],
  latencyBySec: Timeline['latencyBySec'],
): Timeline {
  const end = Math.max(...phases.map((p) => p.countedAt ?? p.lastAckedAt), t0 + 1000);
  const secs = Math.ceil((end - t0) / 1000);
  const sentPerSec = new Array<number>(secs).fill(0);
  for (const s of sends) {
    const i = Math.floor((s.t - t0) / 1000);
    if (i >= 0 && i < secs) sentPerSec[i] = (sentPerSec[i] ?? 0) + s.n;
  }
  // The count at each second boundary, from the last poll before it.
  const at = (t: number) => counts.findLast((c) => c.t <= t)?.n ?? 0;
  const countedPerSec = Array.from({ length: secs }, (_, i) => at(t0 + (i + 1) * 1000) - at(t0 + i * 1000));
  const inRun = scraped.filter((p) => p.t >= t0 - 1000 && p.t <= end + 1000);
  // Nothing is consumed before the first send; a scrape before it says where the counter starts.
  const consumedBefore = scraped.findLast((p) => p.t <= t0)?.consumed ?? 0;
  return {
    t0,
    sentPerSec,
    countedPerSec,
    latencyBySec: latencyBySec.filter((l) => l.sec >= 0 && l.sec < secs),
    rss: samples.filter((s) => s.t >= t0 - 1000 && s.t <= end + 1000).map((s) => ({ s: Math.round((s.t - t0) / 100) / 10, mib: Math.round(s.rssKiB / 102.4) / 10 })),
    pending: inRun.map((p) => ({ s: Math.round((p.t - t0) / 100) / 10, n: p.pending })),
    backlog: inRun.map((p) => {
      let sent = 0;
      for (const x of sends) if (x.t <= p.t) sent += x.n;
      return { s: Math.round((p.t - t0) / 100) / 10, n: Math.max(0, sent - (p.consumed - consumedBefore)) };
    }),
    phases: phases.map((p) => ({ name: p.name, startS: (p.firstSentAt - t0) / 1000, endS: ((p.countedAt ?? p.lastAckedAt) - t0) / 1000 })),
  };
}
