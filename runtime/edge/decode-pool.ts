// A piscina pool that decodes large ingest bodies — JSON parsing, schema validation and
// wire encoding of up to 1000 events — on other threads, so that one big batch never
// stalls the small requests behind it. Rule: the pool is bounded (its queue included), a
// body's bytes are moved to the thread rather than copied, and close() is idempotent. When
// the pool's queue is full the body is decoded inline, as a small one is: an overloaded
// pool makes the edge slower, never wrong (a full queue used to answer 500).
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { decodeBody, type BodyDecoder, type DecodeOptions, type DecodedBody } from '../../http/index.ts';
import type { DecodeTask } from './decode-task.ts';

export type DecodePool = BodyDecoder & { close(): Promise<void> };

/**
 * Start a pool of `threads` decoder threads.
 *
 * @example
 * const pool = createDecodePool(2, { maxBatchEvents: 1000, partitionKey: 'userId' });
 * const decoded = await pool.decode(bytes);
 */
export function createDecodePool(threads: number, options: DecodeOptions): DecodePool {
  const dev = import.meta.url.endsWith('.ts');
  const filename = fileURLToPath(new URL(dev ? './decode-task-dev.mjs' : './decode-task.js', import.meta.url));
  const pool = new Piscina<DecodeTask, DecodedBody>({ filename, name: 'decode', minThreads: threads, maxThreads: threads, maxQueue: 'auto', idleTimeout: 60_000, resourceLimits: { maxOldGenerationSizeMb: 128 } });
  let closed: Promise<void> | undefined;
  return {
    decode: async (bytes, per) => {
      const o = { ...options, ...per };
      if (pool.queueSize >= maxQueue(pool)) return decodeBody(bytes, o);
      try {
        return await pool.run({ bytes, options: o }, { transferList: [bytes.buffer as ArrayBuffer] });
      } catch (e) {
        // Refused before the bytes moved (the queue filled in between): decode here instead.
        if (bytes.byteLength > 0 && /queue is at limit/i.test((e as Error).message)) return decodeBody(bytes, o);
        throw e;
      }
    },
    close: () => (closed ??= pool.close()),
  };
}

/** The pool's queue bound ('auto' is threads², as piscina resolves it). */
function maxQueue(pool: Piscina<DecodeTask, DecodedBody>): number {
  const q = pool.options.maxQueue;
  return typeof q === 'number' ? q : pool.options.maxThreads ** 2;
}
