// Ingest answers' error lists are bounded in bytes (DESIGN.md, "Bytes, not counts"): a 255 KB
// unknown key comes back cut, one rejection lists at most 10 errors, and a whole list at most
// 256 KiB of them, with `rejectedTruncated: true` and every rejection still counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ERROR_TEXT, MAX_ERRORS_PER_ITEM, MAX_REJECTED_BYTES } from './ingest/rejections.ts';
import { appWith, eventInput, recordingIngest } from './test-helpers.ts';

type Errors = { path: string; message: string }[];
type StreamSummary = { accepted: number; rejected: { line: number; errors: Errors }[]; rejectedCount: number; rejectedTruncated?: true; lines: number };
type IngestSummary = { accepted: number; ids: string[]; rejected: { index: number; errors: Errors }[]; rejectedTruncated?: true };

const ndjson = (lines: unknown[]): string => lines.map((l) => JSON.stringify(l)).join('\n');
const bytes = (s: string): number => Buffer.byteLength(s);
/** An event whose properties have `n` keys of `len` characters (a key over 128 is refused). */
const longKeys = (i: number, n: number, len: number) =>
  eventInput(i, { properties: Object.fromEntries(Array.from({ length: n }, (_, k) => [`${String(k).padStart(3, '0')}${'k'.repeat(len)}`, 'v'])) });

test('POST /v1/events/stream - a 255 KB unknown key is listed cut to 200 characters', async () => {
  const res = await appWith({ ingest: recordingIngest() }).request('/v1/events/stream', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body: ndjson([longKeys(0, 1, 255 * 1024), eventInput(1)]),
  });
  assert.equal(res.status, 202);
  const text = await res.text();
  assert.ok(bytes(text) < 2_000, `answer of ${bytes(text)} bytes`);
  const s = JSON.parse(text) as StreamSummary;
  const e = s.rejected[0]!.errors[0]!;
  assert.equal([...e.path].length, MAX_ERROR_TEXT + 1);
  assert.ok(e.path.startsWith('properties.000kkk') && e.path.endsWith('…'), e.path);
  assert.equal(s.rejectedTruncated, undefined);
});

test('POST /v1/events/stream - 400 lines of many long keys: at most 256 KiB of errors listed, all counted, rejectedTruncated', async () => {
  const lines = Array.from({ length: 400 }, (_, i) => longKeys(i, 20, 300));
  const body = ndjson([...lines, eventInput(9_999)]);
  const res = await appWith({ ingest: recordingIngest(), options: { maxBodyBytes: 8 << 20 } }).request('/v1/events/stream', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-ndjson' },
    body,
  });
  assert.equal(res.status, 202);
  const text = await res.text();
  const s = JSON.parse(text) as StreamSummary;
  // Unbounded, these errors alone were 400 × 20 × ~330 bytes (~2.6 MB).
  assert.ok(bytes(text) < MAX_REJECTED_BYTES + 16 * 1024, `answer of ${bytes(text)} bytes`);
  assert.equal(s.rejectedCount, 400);
  assert.equal(s.rejectedTruncated, true);
  assert.ok(s.rejected.length > 50 && s.rejected.length < 400, `${s.rejected.length} listed`);
  assert.deepEqual(s.rejected.map((r) => r.line), Array.from({ length: s.rejected.length }, (_, i) => i + 1));
  const first = s.rejected[0]!.errors;
  assert.equal(first.length, MAX_ERRORS_PER_ITEM + 1);
  assert.equal(first.at(-1)?.message, `${20 - MAX_ERRORS_PER_ITEM} more errors not listed`);
  assert.equal(s.accepted, 1);
});

test('POST /v1/events - every rejected index is listed with bounded errors; past the byte budget they say so', async () => {
  const events = [...Array.from({ length: 200 }, (_, i) => longKeys(i, 20, 300)), eventInput(500)];
  const res = await appWith({ ingest: recordingIngest(), options: { maxBodyBytes: 8 << 20 } }).request('/v1/events', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(events),
  });
  assert.equal(res.status, 202);
  const text = await res.text();
  const s = JSON.parse(text) as IngestSummary;
  assert.ok(bytes(text) < MAX_REJECTED_BYTES + 32 * 1024, `answer of ${bytes(text)} bytes`);
  assert.deepEqual(s.rejected.map((r) => r.index), Array.from({ length: 200 }, (_, i) => i));
  assert.equal(s.rejectedTruncated, true);
  assert.equal(s.rejected[0]!.errors.length, MAX_ERRORS_PER_ITEM + 1);
  assert.match(s.rejected.at(-1)!.errors[0]!.message, /errors not listed/);
  assert.deepEqual(s.ids, ['e-500']);
});

test('POST /v1/events - one invalid event with a huge key: the 400 message and list stay small', async () => {
  const res = await appWith().request('/v1/events', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(longKeys(0, 3, 20_000)),
  });
  assert.equal(res.status, 400);
  const text = await res.text();
  assert.ok(bytes(text) < 4_000, `answer of ${bytes(text)} bytes`);
  assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'validation_failed');
});
