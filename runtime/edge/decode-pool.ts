// A piscina pool that decodes large ingest bodies — JSON parsing, schema validation and
// wire encoding of up to 1000 events — on other threads, so that one big batch never
// stalls the small requests behind it. Rule: the pool is bounded (its queue included), a
// body's bytes are moved to the thread rather than copied, and close() is idempotent.
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { BodyDecoder, DecodeOptions, DecodedBody } from '../../http/index.ts';
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
    decode: (bytes, per) => pool.run({ bytes, options: { ...options, ...per } }, { transferList: [bytes.buffer as ArrayBuffer] }),
    close: () => (closed ??= pool.close()),
  };
}
