// One phase of a scenario: generate its events, send them at its rate, and wait until the
// rollups have counted every distinct one. Rule: a phase starts only once the previous one is
// fully counted, so its window — first send to last count — holds its own events only.
import { EventFactory } from './generate.ts';
import type { RollupPoller } from './measure.ts';
import { Plan } from './plan.ts';
import { cpuByComponent, cpuDiff, type Services } from './cpu.ts';
import type { ProcSampler } from './proc.ts';
import type { Progress } from './progress.ts';
import type { PhaseResult } from './result.ts';
import type { MetricsScraper } from './scrape.ts';
import { httpSender, pump, streamSend, type HttpSender, type Sender, type StreamResult } from './send.ts';

export type PhaseSpec = {
  readonly name: string;
  /** `stream`: the whole phase in one POST /v1/events/stream, `batch` events per body chunk. */
  readonly via: 'kafka' | 'http' | 'stream';
  /** Distinct events, or undefined for a phase that sends for `durationMs`. */
  readonly events: number | undefined;
  readonly rate: number | 'max';
  readonly durationMs?: number;
  readonly batch: number;
  readonly inFlight: number;
  readonly dupRatio: number;
  readonly hotKeyShare: number;
  readonly seed: number;
};

export type PhaseContext = {
  /** Every id of the run starts with `${tag}-`. */
  readonly tag: string;
  readonly url: string;
  readonly users: number;
  readonly zipf: number;
  readonly timeoutSeconds: number | undefined;
  readonly rollups: RollupPoller;
  readonly sampler: ProcSampler;
  readonly scraper: MetricsScraper;
  readonly keyflowPid: number;
  /** Which processes are this run's services, for the CPU breakdown. */
  readonly services: Services;
  readonly progress: Progress;
  kafka(): Promise<Sender>;
  /** Distinct events of earlier phases: the count this phase starts from. */
  readonly countedBefore: number;
  /** Acknowledged sends, for the timeline. */
  readonly sends: { t: number; n: number }[];
};

export async function runPhase(ctx: PhaseContext, spec: PhaseSpec): Promise<PhaseResult> {
  const factory = new EventFactory({ seed: spec.seed, idPrefix: `${ctx.tag}-${spec.name}-`, users: ctx.users, zipf: ctx.zipf, hotKeyShare: spec.hotKeyShare });
  const plan = new Plan({ factory, events: spec.events, dupRatio: spec.dupRatio, seed: spec.seed }).prepare();
  const http: HttpSender | undefined = spec.via === 'http' ? httpSender(ctx.url) : undefined;
  const sender = spec.via === 'stream' ? undefined : (http ?? (await ctx.kafka()));
  const total = spec.events !== undefined ? Math.round(spec.events * (1 + spec.dupRatio)) : spec.rate === 'max' ? undefined : Math.round((spec.rate * (spec.durationMs ?? 0)) / 1000);
  const before = ctx.countedBefore;
  const ticker = setInterval(() => {
    const pts = ctx.rollups.points;
    const last = pts[pts.length - 1];
    const ago = pts.findLast((p) => last !== undefined && p.t <= last.t - 1000) ?? pts[0];
    const rate = last !== undefined && ago !== undefined && last.t > ago.t ? ((last.n - ago.n) / (last.t - ago.t)) * 1000 : 0;
    ctx.progress.update({ phase: spec.name, sent: plan.taken, total, counted: Math.max(0, ctx.rollups.counted - before), target: spec.events ?? (plan.distinct || undefined), eventsPerSec: rate, rssMiB: (ctx.sampler.last?.rssKiB ?? 0) / 1024 });
  }, 200);
  try {
    const start = ctx.sampler.sample();
    const cpuStart = cpuByComponent(ctx.keyflowPid, ctx.services);
    const onSent = (n: number, t: number) => ctx.sends.push({ t, n });
    let streamed: StreamResult | undefined;
    const sent = sender === undefined ? (streamed = await streamSend(ctx.url, plan, { chunkEvents: spec.batch, onRead: onSent })) : await pump(plan, sender, {
      rate: spec.rate,
      batch: spec.batch,
      inFlight: spec.inFlight,
      ...(spec.durationMs !== undefined && { durationMs: spec.durationMs }),
      onSent,
    });
    const sendMs = Math.max(1, sent.lastAckedAt - sent.firstSentAt);
    const timeoutMs = ctx.timeoutSeconds !== undefined ? ctx.timeoutSeconds * 1000 : Math.max(60_000, 4 * sendMs + 30_000);
    const waited = await ctx.rollups.until(before + plan.distinct, { timeoutMs, stallMs: 30_000 });
    const end = ctx.sampler.sample();
    const cpu = cpuDiff(cpuStart, cpuByComponent(ctx.keyflowPid, ctx.services));
    const windowMs = Math.max(1, (waited.at ?? Date.now()) - sent.firstSentAt);
    const lat = streamed !== undefined ? [streamed.requestMs] : (http?.latenciesMs ?? []);
    return {
      name: spec.name,
      via: spec.via,
      rate: spec.rate,
      batch: spec.batch,
      inFlight: spec.inFlight,
      distinct: plan.distinct,
      messages: plan.taken,
      resends: plan.resends,
      firstSentAt: sent.firstSentAt,
      lastAckedAt: sent.lastAckedAt,
      countedAt: waited.at,
      sendRatePerSec: (sent.messages / sendMs) * 1000,
      eventsPerSec: (plan.taken / windowMs) * 1000,
      rowsPerSec: (plan.distinct / windowMs) * 1000,
      peakRssMiB: ctx.sampler.peakRssMiB(sent.firstSentAt, end?.t ?? Date.now()),
      cpuSeconds: start !== undefined && end !== undefined ? end.cpuS - start.cpuS : 0,
      cpu: { ...cpu, wallSeconds: Math.round(windowMs / 10) / 100 },
      maxPendingEvents: ctx.scraper.maxPending(sent.firstSentAt, end?.t ?? Date.now()),
      ...((http !== undefined || streamed !== undefined) && { http: { requests: lat.length, retries: http?.retries() ?? 0, ...percentiles(lat) } }),
      ...(waited.at === undefined && { incomplete: waited.why }),
    };
  } finally {
    clearInterval(ticker);
    ctx.progress.done();
  }
}

/** Nearest-rank percentiles of a list of milliseconds. */
export function percentiles(xs: readonly number[]): { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0) * 10) / 10;
  return { p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: at(1) };
}
