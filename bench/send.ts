// How the bench hands messages to keyflow: straight to Kafka (as producers of the design do),
// through POST /v1/events, at full speed or at a fixed rate, or as one NDJSON stream through
// POST /v1/events/stream.
//
// Rule: a message counts as sent once Kafka acknowledged it (acks = all) or the edge
// answered 202; a batch the edge refuses for lack of capacity (429, 503, a dropped
// connection) is sent again as is, as a client with retries would — same payload, same
// sentAt, so its latency includes the retry.
import { once } from 'node:events';
import { request } from 'node:http';
import { Partitioners, type Producer } from 'kafkajs';
import { testKafka } from '../test/support/services.ts';
import { CODEC_TYPES, registerCodecs, type CodecName } from '../runtime/kafka/index.ts';
import type { Message } from './generate.ts';
import type { Plan } from './plan.ts';

export interface Sender {
  readonly via: 'kafka' | 'http';
  send(batch: readonly Message[]): Promise<void>;
  close(): Promise<void>;
}

/** A kafkajs producer on the events topic, keyed like keyflow's edge (murmur2 of the key), compressing with `codec`. */
export async function kafkaSender(brokers: readonly string[], topic: string, codec: CodecName | 'none' = 'none'): Promise<Sender> {
  registerCodecs();
  const compression = codec === 'none' ? undefined : CODEC_TYPES[codec];
  const kafka = testKafka('keyflow-bench', { brokers: [...brokers] });
  const producer: Producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  return {
    via: 'kafka',
    send: async (batch) => {
      await producer.send({ topic, acks: -1, ...(compression !== undefined && { compression }), messages: batch.map((m) => ({ key: m.key, value: m.value })) });
    },
    close: () => producer.disconnect(),
  };
}

export type HttpSender = Sender & {
  /** Milliseconds of every request that got its 202 (the last attempt of a retried batch). */
  readonly latenciesMs: number[];
  readonly retries: () => number;
};

/** POST /v1/events with `{ "events": [...] }`; retries what the edge could not take. */
export function httpSender(baseUrl: string, deadlineMs = 120_000): HttpSender {
  const latenciesMs: number[] = [];
  let retries = 0;
  return {
    via: 'http',
    latenciesMs,
    retries: () => retries,
    send: async (batch) => {
      const body = `{"events":[${batch.map((m) => m.value).join(',')}]}`;
      const until = Date.now() + deadlineMs;
      for (let attempt = 0; ; attempt++) {
        const t = performance.now();
        let status = 0;
        let text = '';
        try {
          const res = await fetch(`${baseUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          status = res.status;
          text = await res.text();
        } catch (e) {
          text = (e as Error).message;
        }
        if (status === 202) {
          latenciesMs.push(performance.now() - t);
          return;
        }
        if (status !== 0 && status !== 429 && status < 500) throw new Error(`POST /v1/events answered ${status}: ${text.slice(0, 300)}`);
        if (Date.now() > until) throw new Error(`POST /v1/events kept failing for ${deadlineMs} ms (last: ${status || 'no answer'} ${text.slice(0, 200)})`);
        retries++;
        await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)));
      }
    },
    close: async () => undefined,
  };
}

export type StreamResult = {
  readonly firstSentAt: number;
  /** When the edge answered (every event of the stream acknowledged by Kafka). */
  readonly lastAckedAt: number;
  readonly messages: number;
  /** Milliseconds from the first byte sent to the answer. */
  readonly requestMs: number;
};

/**
 * Send every message of `plan` in ONE POST /v1/events/stream, as NDJSON. Each chunk of
 * `chunkEvents` messages is generated and stamped only when the socket takes more bytes, so
 * the edge's backpressure (it reads no faster than Kafka acknowledges) sets the pace.
 * `onRead` sees each chunk as it leaves for the edge — ahead of what Kafka acknowledged by
 * the edge's two chunks and the sockets' buffers.
 * A stream the edge does not answer 202, or whose answer counts fewer accepted events than
 * were sent (or any rejected line), is an error: the bench never measures a lossy run.
 */
export async function streamSend(baseUrl: string, plan: Plan, o: { chunkEvents: number; onRead?: (messages: number, atMs: number) => void }): Promise<StreamResult> {
  // node:http on a connection of its own (agent: false): a pooled keep-alive connection that
  // the edge closes as idle just as the stream starts would fail it (a body cannot be replayed).
  const req = request(new URL('/v1/events/stream', baseUrl), { method: 'POST', agent: false, headers: { 'content-type': 'application/x-ndjson' } });
  let answered = false;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.once('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  // An early answer (an error) ends the writing; its body says why.
  answer.catch(() => undefined);
  const t = performance.now();
  let first: number | undefined;
  let sent = 0;
  let status: number;
  let text: string;
  try {
    while (!answered) {
      const stamp = Date.now();
      const batch = plan.take(o.chunkEvents, stamp);
      if (batch.length === 0) break;
      first ??= stamp;
      sent += batch.length;
      let lines = '';
      for (const m of batch) lines += `${m.value}\n`;
      o.onRead?.(batch.length, stamp);
      // The edge's backpressure: wait until the socket takes more (or the edge answers).
      if (!req.write(lines)) await Promise.race([once(req, 'drain'), answer]);
    }
    req.end();
    ({ status, text } = await answer);
  } catch (e) {
    throw new Error(`POST /v1/events/stream failed after ${sent} events were written: ${(e as Error).message}`, { cause: e });
  }
  const requestMs = performance.now() - t;
  const lastAckedAt = Date.now();
  if (status !== 202) throw new Error(`POST /v1/events/stream answered ${status} after ${sent} events were written: ${text.slice(0, 300)}`);
  const summary = JSON.parse(text) as { accepted?: unknown; rejectedCount?: unknown };
  if (summary.accepted !== sent || summary.rejectedCount !== 0) throw new Error(`POST /v1/events/stream accepted ${String(summary.accepted)} of ${sent} events (${String(summary.rejectedCount)} rejected): ${text.slice(0, 300)}`);
  return { firstSentAt: first ?? lastAckedAt, lastAckedAt, messages: sent, requestMs };
}

export type PumpOptions = {
  /** Messages per second (resends included), or as fast as the sender takes them. */
  readonly rate: number | 'max';
  /** Largest batch per send. */
  readonly batch: number;
  /** Sends in flight at once (HTTP: concurrent clients). */
  readonly inFlight: number;
  /** Stop taking messages after this long (for unbounded plans). */
  readonly durationMs?: number;
  /** Called as each batch is acknowledged. */
  readonly onSent?: (messages: number, atMs: number) => void;
};

export type PumpResult = {
  /** When the first message was stamped. */
  readonly firstSentAt: number;
  /** When the last batch was acknowledged. */
  readonly lastAckedAt: number;
  readonly messages: number;
};

const TICK_MS = 10;

/**
 * Send a plan's messages. At a fixed rate, every 10 ms it sends what fell due (in batches of
 * at most `batch`); each message is stamped when it is taken, so pacing adds no latency.
 */
export async function pump(plan: Plan, sender: Sender, o: PumpOptions): Promise<PumpResult> {
  const t0 = Date.now();
  const until = o.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + o.durationMs;
  const inflight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let first: number | undefined;
  let lastAcked = t0;
  let messages = 0;
  const startedWith = plan.taken;
  while (!plan.done && failure === undefined) {
    const now = Date.now();
    if (now >= until) break;
    let n = o.batch;
    if (o.rate !== 'max') {
      const due = Math.floor((o.rate * (now - t0)) / 1000) - (plan.taken - startedWith);
      if (due <= 0) {
        await sleep(TICK_MS);
        continue;
      }
      n = Math.min(n, due);
    }
    while (inflight.size >= o.inFlight) await Promise.race(inflight);
    if (failure !== undefined) break;
    const stamp = Date.now();
    const batch = plan.take(n, stamp);
    if (batch.length === 0) break;
    first ??= stamp;
    const p: Promise<void> = sender.send(batch).then(
      () => {
        messages += batch.length;
        lastAcked = Date.now();
        o.onSent?.(batch.length, lastAcked);
      },
      (error: unknown) => {
        failure ??= { error };
      },
    );
    const tracked = p.finally(() => inflight.delete(tracked));
    inflight.add(tracked);
  }
  await Promise.all(inflight);
  if (failure !== undefined) throw failure.error;
  return { firstSentAt: first ?? t0, lastAckedAt: lastAcked, messages };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
