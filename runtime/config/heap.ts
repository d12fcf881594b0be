// The main thread's heap limit. Rule: node fixes a thread's heap size when the thread starts,
// so the worker threads get theirs from KEYFLOW_WORKER_HEAP_MB (resourceLimits) and the main
// thread gets KEYFLOW_MAIN_HEAP_MB from whoever launches node (`--max-old-space-size`): the
// npm scripts, the image's entrypoint, the bench and the tests all do it through
// `mainHeapArgs`' flag. A process started another way says so at start-up (mainHeapCheck).
import { getHeapStatistics } from 'node:v8';

/** KEYFLOW_MAIN_HEAP_MB's default, in MiB. */
export const MAIN_HEAP_MB_DEFAULT = 256;

/** V8 adds the young generation (3 semi-spaces of 16 MiB by default) to the old one's limit. */
const YOUNG_GENERATION_ALLOWANCE_MB = 128;

/**
 * The node flag that gives the main thread the heap KEYFLOW_MAIN_HEAP_MB asks for.
 *
 * @example
 * spawn(process.execPath, [...mainHeapArgs(env), 'runtime/cli/main.js', 'all'], { env });
 */
export function mainHeapArgs(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const mb = env.KEYFLOW_MAIN_HEAP_MB ?? '';
  return [`--max-old-space-size=${/^\d+$/.test(mb) ? mb : MAIN_HEAP_MB_DEFAULT}`];
}

/**
 * Whether this thread's heap limit is the configured one: V8's limit is the old generation's
 * plus the young generation's, so it may exceed the configured size by the latter.
 *
 * @example
 * const { applied, limitMb } = mainHeapCheck(config.mainHeapMb);
 */
export function mainHeapCheck(configuredMb: number, heapSizeLimitBytes: number = getHeapStatistics().heap_size_limit): { readonly limitMb: number; readonly applied: boolean } {
  const limitMb = Math.round(heapSizeLimitBytes / 2 ** 20);
  return { limitMb, applied: limitMb >= configuredMb && limitMb <= configuredMb + YOUNG_GENERATION_ALLOWANCE_MB };
}
