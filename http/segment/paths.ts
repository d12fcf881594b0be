// Where the Segment-compatible routes live. Rule: these paths authenticate by write key in
// their own handler (the key may travel in the body), so the guard's scope table leaves
// them to it — and only them.
import type { SegmentCall } from './map.ts';

/** Each single-message route and the call it implies (long and short browser forms). */
export const SEGMENT_CALL_PATHS: Readonly<Record<string, SegmentCall>> = {
  '/v1/track': 'track',
  '/v1/identify': 'identify',
  '/v1/page': 'page',
  '/v1/screen': 'screen',
  '/v1/group': 'group',
  '/v1/alias': 'alias',
  '/v1/t': 'track',
  '/v1/i': 'identify',
  '/v1/p': 'page',
  '/v1/s': 'screen',
  '/v1/g': 'group',
  '/v1/a': 'alias',
};

/** The batch routes. */
export const SEGMENT_BATCH_PATHS: readonly string[] = ['/v1/batch', '/v1/b'];

const all = new Set([...Object.keys(SEGMENT_CALL_PATHS), ...SEGMENT_BATCH_PATHS]);

/**
 * Whether `path` is a Segment-compatible route.
 *
 * @example
 * isSegmentPath('/v1/b'); // true
 */
export function isSegmentPath(path: string): boolean {
  return all.has(path);
}
