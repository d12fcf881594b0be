// Error lists in ingest answers, bounded in bytes (DESIGN.md *Guarantees*, "Bytes, not
// counts"). Rule: whatever a client sends, one rejection lists at most MAX_ERRORS_PER_ITEM
// errors, each path and message cut to MAX_ERROR_TEXT code points (an unknown key of 255 KB
// comes back as its first 200 characters and `…`), and a whole list holds at most
// MAX_REJECTED_BYTES of errors; past that, the answer says `rejectedTruncated: true` and
// still counts every rejection.
import { truncateCodePoints } from '../../actors/index.ts';

/** Code points of one error's path, and of its message. */
export const MAX_ERROR_TEXT = 200;
/** Errors listed for one rejected event or line; a last entry counts the others. */
export const MAX_ERRORS_PER_ITEM = 10;
/** Bytes of errors (as JSON) one answer lists. */
export const MAX_REJECTED_BYTES = 256 * 1024;

export type FieldError = { readonly path: string; readonly message: string };

/**
 * One rejection's errors, bounded: at most MAX_ERRORS_PER_ITEM, texts cut, and when some were
 * left out a last entry saying how many.
 *
 * @example
 * boundErrors([{ path: 'properties.' + 'k'.repeat(300_000), message: 'Invalid key in record' }]);
 * // [{ path: 'properties.kkk…(200 code points)…', message: 'Invalid key in record' }]
 */
export function boundErrors(errors: readonly FieldError[]): FieldError[] {
  const listed = errors.slice(0, MAX_ERRORS_PER_ITEM).map((e) => ({ path: truncateCodePoints(e.path, MAX_ERROR_TEXT), message: truncateCodePoints(e.message, MAX_ERROR_TEXT) }));
  if (errors.length > MAX_ERRORS_PER_ITEM) {
    listed.push({ path: '', message: `${errors.length - MAX_ERRORS_PER_ITEM} more errors not listed` });
  }
  return listed;
}

/** The bytes of errors an answer may still list. */
export class RejectionBudget {
  #left: number;
  #spent = false;
  constructor(bytes = MAX_REJECTED_BYTES) {
    this.#left = bytes;
  }
  /** Take the bytes of `errors` (already bounded); false, and nothing taken, when they do not fit. */
  take(errors: readonly FieldError[]): boolean {
    const n = Buffer.byteLength(JSON.stringify(errors));
    if (n > this.#left) {
      this.#spent = true;
      return false;
    }
    this.#left -= n;
    return true;
  }
  /** Whether some errors were left out. */
  get exhausted(): boolean {
    return this.#spent;
  }
}
