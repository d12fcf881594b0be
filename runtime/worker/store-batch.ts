// The store step of a flush. Rule: an unavailable store fails the whole batch (the worker
// retries it), but a store that refuses the batch for its data (SQLSTATE class 22, 23 or
// 54: data exception, integrity constraint, program limit) must not block its partitions
// forever — the events it refuses are isolated one by one and dead-lettered instead.
//
// Bytes, not counts (DESIGN.md): a batch is stored in parts of at most flushMaxBytes (each
// its own transaction, in order), so the statement parameters a flush builds stay bounded
// in bytes whatever the events weigh. A batch whose later part fails is retried whole; the
// events an earlier part inserted are then replays to the store, so they are remembered
// (by object, weakly) and still reported as inserted by the attempt that completes.
import type { SpanContext } from '@opentelemetry/api';
import { encodeEvent, type KeyflowEvent, type Pending } from '../../actors/index.ts';
import { flushBatch, type DeadLetterRow, type Sql } from '../../db/index.ts';
import type { KeyflowMetrics } from '../../otel/index.ts';
import type { Config } from '../config/index.ts';
import { errorFields, type Logger } from '../log/index.ts';

/** What a worker keeps with each pending event: where it came from, and its trace. */
export type Meta = {
  readonly partition: number;
  readonly offset: string;
  readonly span: SpanContext | undefined;
  /** When the edge received the event (its `keyflow-received-at` header, else the Kafka timestamp), epoch ms. */
  readonly receivedAtMs: number;
  /** The bytes of its Kafka message value: what it weighs in pending and flush byte caps. */
  readonly bytes: number;
};

type StoreDeps = { readonly sql: Sql; readonly config: Pick<Config, 'topic' | 'flushMaxBytes'>; readonly log: Logger; readonly metrics: KeyflowMetrics };

/** Events a part of a batch inserted before a later part failed: its retry reports them as inserted. */
const insertedByEarlierParts = new WeakSet<KeyflowEvent>();

/** What a dead letter weighs in a part: its kept bytes and texts. */
const deadLetterWeight = (d: DeadLetterRow): number => 256 + (d.raw?.byteLength ?? 0) + d.error.length * 3;

type Part = { entries: Pending<Meta>[]; deadLetters: DeadLetterRow[] };

/** Cut the batch into parts of at most maxBytes each (a part holds at least one row); events first, then dead letters. */
export function partsOf(entries: readonly Pending<Meta>[], deadLetters: readonly DeadLetterRow[], maxBytes: number): Part[] {
  const parts: Part[] = [];
  let part: Part = { entries: [], deadLetters: [] };
  let bytes = 0;
  const room = (n: number): void => {
    if (bytes > 0 && bytes + n > maxBytes) {
      parts.push(part);
      part = { entries: [], deadLetters: [] };
      bytes = 0;
    }
    bytes += n;
  };
  for (const e of entries) {
    room(e.meta.bytes);
    part.entries.push(e);
  }
  for (const d of deadLetters) {
    room(deadLetterWeight(d));
    part.deadLetters.push(d);
  }
  parts.push(part);
  return parts;
}

const DATA_ERROR_CLASSES = new Set(['22', '23', '54']);

/** True when PostgreSQL refused the data itself rather than being unavailable. */
export function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && DATA_ERROR_CLASSES.has(code.slice(0, 2));
}

async function store(sql: Sql, entries: readonly Pending<Meta>[], deadLetters: readonly DeadLetterRow[]): Promise<Set<KeyflowEvent>> {
  const result = await flushBatch(sql, { events: entries.map((e) => e.event), partitionKeys: entries.map((e) => e.key), deadLetters });
  return new Set(result.inserted);
}

/**
 * Store the entries and dead letters in one flush transaction; answers the events that were
 * inserted for the first time (the input objects).
 */
export async function storeBatch(d: StoreDeps, entries: readonly Pending<Meta>[], deadLetters: readonly DeadLetterRow[]): Promise<Set<KeyflowEvent>> {
  const parts = partsOf(entries, deadLetters, d.config.flushMaxBytes);
  if (parts.length === 1) return storePart(d, entries, deadLetters);
  const inserted = new Set<KeyflowEvent>();
  for (const part of parts) {
    for (const e of await storePart(d, part.entries, part.deadLetters)) {
      inserted.add(e);
      insertedByEarlierParts.add(e);
    }
  }
  for (const { event } of entries) if (insertedByEarlierParts.delete(event)) inserted.add(event);
  return inserted;
}

async function storePart(d: StoreDeps, entries: readonly Pending<Meta>[], deadLetters: readonly DeadLetterRow[]): Promise<Set<KeyflowEvent>> {
  try {
    return await store(d.sql, entries, deadLetters);
  } catch (e) {
    if (!isDataError(e)) throw e;
    return storeIsolatingPoison(d, entries, deadLetters, e);
  }
}

/** Rare and slow by design: one transaction per event, then one for the dead letters. */
async function storeIsolatingPoison(d: StoreDeps, entries: readonly Pending<Meta>[], deadLetters: readonly DeadLetterRow[], cause: unknown): Promise<Set<KeyflowEvent>> {
  d.log.warn('store refused a batch for its data; isolating the events it refuses', { ...errorFields(cause), events: entries.length });
  const stored = new Set<KeyflowEvent>();
  const refused: DeadLetterRow[] = [];
  const utf8 = new TextEncoder();
  for (const entry of entries) {
    try {
      for (const e of await store(d.sql, [entry], [])) stored.add(e);
    } catch (e) {
      if (!isDataError(e)) throw e;
      refused.push({ topic: d.config.topic, partition: entry.meta.partition, offset: entry.meta.offset, key: utf8.encode(entry.key), raw: utf8.encode(encodeEvent(entry.event)), reason: 'store-rejected', error: (e as Error).message });
      d.metrics.deadLetters.inc({ reason: 'store-rejected' });
    }
  }
  await store(d.sql, [], deadLetters.concat(refused));
  return stored;
}
