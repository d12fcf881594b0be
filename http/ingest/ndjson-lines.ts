// Splits a byte stream into NDJSON lines. Rule: memory is bounded by `maxLineBytes` whatever
// the stream's length — a longer line is reported as too long and skipped up to its newline
// without being held — and every line is numbered from 1, blank ones included (the caller
// skips those), so an answer can name the lines it refused.

/** One line of the stream: its bytes without the line end, or too long to keep. */
export type NdjsonLine =
  | { readonly line: number; readonly bytes: Uint8Array; readonly tooLong?: false }
  | { readonly line: number; readonly tooLong: true; readonly bytes?: undefined };

const LF = 0x0a;
const CR = 0x0d;

/**
 * The lines of `chunks`, in order. A final line without a newline counts; `\r\n` ends are
 * accepted.
 *
 * @example
 * for await (const l of ndjsonLines(req.body!, 256 * 1024)) if (!l.tooLong) handle(l.line, l.bytes);
 */
export async function* ndjsonLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes: number): AsyncGenerator<NdjsonLine> {
  let line = 1;
  let parts: Uint8Array[] = [];
  let held = 0;
  let skipping = false;
  const take = (): NdjsonLine => {
    const n = line++;
    if (skipping) {
      skipping = false;
      parts = [];
      held = 0;
      return { line: n, tooLong: true };
    }
    let bytes = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, held);
    parts = [];
    held = 0;
    if (bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === CR) bytes = bytes.subarray(0, bytes.byteLength - 1);
    return { line: n, bytes };
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(LF, start);
      const end = nl === -1 ? chunk.byteLength : nl;
      if (!skipping && end > start) {
        if (held + (end - start) > maxLineBytes + 1) {
          // +1 leaves room for a CR that belongs to the line end.
          skipping = true;
          parts = [];
          held = 0;
        } else {
          parts.push(chunk.subarray(start, end));
          held += end - start;
        }
      }
      if (nl === -1) break;
      yield take();
      start = nl + 1;
    }
  }
  if (held > 0 || skipping) yield take();
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
