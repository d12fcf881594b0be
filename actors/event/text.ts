// The unit of every length limit, and the strings keyflow refuses. Rule: a length limit
// counts Unicode code points everywhere — the event schema (zod counts code points), a
// lookup by id, a query parameter, PostgreSQL's char_length — so what one door accepts
// another never calls too long; and a string PostgreSQL cannot store (NUL) or that is not
// Unicode (an unpaired surrogate) is refused wherever it enters, never passed on.

// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, as a field error message says it. */
export const UNSTORABLE_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

/**
 * Whether PostgreSQL can store `s` as text and it is well-formed Unicode.
 *
 * @example
 * isStorableText('a\u0000b'); // false
 */
export function isStorableText(s: string): boolean {
  return !UNSTORABLE.test(s);
}

/**
 * The length of `s` in Unicode code points (an astral emoji is 1, not 2).
 *
 * @example
 * codePointLength('😀'); // 1
 */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `max` code points of `s`, never splitting a surrogate pair. */
export function truncateCodePoints(s: string, max: number): string {
  if (codePointLength(s) <= max) return s;
  return `${Array.from(s).slice(0, max).join('')}…`;
}
