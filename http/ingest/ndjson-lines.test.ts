import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ndjsonLines, type NdjsonLine } from './ndjson-lines.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function lines(chunks: string[], max = 1024): Promise<(string | 'TOO LONG')[]> {
  async function* gen() {
    for (const c of chunks) yield enc.encode(c);
  }
  const out: NdjsonLine[] = [];
  for await (const l of ndjsonLines(gen(), max)) out.push(l);
  assert.deepEqual(out.map((l) => l.line), out.map((_, i) => i + 1), 'numbered from 1 without gaps');
  return out.map((l) => (l.tooLong ? 'TOO LONG' : dec.decode(l.bytes)));
}

test('ndjsonLines - lines split across chunks are joined; blank lines are kept and numbered', async () => {
  assert.deepEqual(await lines(['{"a"', ':1}\n\n{"b":2}\r', '\n{"c":3}']), ['{"a":1}', '', '{"b":2}', '{"c":3}']);
});

test('ndjsonLines - a trailing newline adds no empty last line', async () => {
  assert.deepEqual(await lines(['a\nb\n']), ['a', 'b']);
  assert.deepEqual(await lines([]), []);
});

test('ndjsonLines - a line over the limit is reported as too long and the next one is intact', async () => {
  assert.deepEqual(await lines(['ok\n', 'x'.repeat(10), 'y'.repeat(10), '\nnext\n'], 15), ['ok', 'TOO LONG', 'next']);
  assert.deepEqual(await lines(['a'.repeat(20)], 15), ['TOO LONG']);
  assert.deepEqual(await lines(['a'.repeat(15), '\r\n'], 15), ['a'.repeat(15)], 'the CR of a line end is not counted');
});
