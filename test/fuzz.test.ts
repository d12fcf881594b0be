// Poison fuzz: 10,000 random and malformed Kafka messages — not JSON, truncated JSON, wrong
// types, huge strings, NUL bytes, lone surrogates, empty and null values, events with bad
// dates, deep nesting, binary garbage — written straight to the topic among valid events
// (and replays of them). Each message's fate is the domain's own verdict (decodeEvent): every
// valid event is stored and counted once, every other message is in dead_letters once with
// its exact bytes and why, and no worker thread crashes.
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Producer } from 'kafkajs';
import { decodeEvent, encodeEvent, identityOf, MAX_EVENT_BYTES, retentionCutoffMs, type EventInput } from '../actors/index.ts';
import { prng } from './support/events.ts';
import { eventually, getJson } from './support/http.ts';
import { metricValue, testProducer } from './support/kafka.ts';
import { isolate, startKeyflow, type Isolated, type KeyflowProcess } from './support/keyflow.ts';

const INVALID = 10_000;
const VALID = 5_000;
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261121);

type Message = { key: Buffer | string | null; value: Buffer | null };

let iso: Isolated;
let kf: KeyflowProcess;
let producer: Producer;

before(async () => {
  iso = await isolate({ KEYFLOW_FLUSH_INTERVAL_MS: '100' });
  kf = await startKeyflow(iso.env);
  producer = await testProducer();
});

after(async () => {
  await producer?.disconnect();
  await kf?.stop('SIGTERM');
  await iso?.cleanup();
});

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** The generators, seeded: the same FUZZ_SEED gives the same messages. */
function fuzzer(seed: number) {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const now = Date.now();

  function valid(i: number): EventInput {
    const id = `fz-${i}`;
    const e: EventInput = { id, type: pick(['ad.view', 'ad.click', 'checkout.complete']), source: pick(['facebook', 'tiktok']), occurredAt: now - int(0, 600_000) };
    switch (i % 10) {
      case 1:
        Object.assign(e, { userId: `u-${i % 300}`, sessionId: `s-${i}`, funnelStage: 'bottom', revenue: { amount: int(-100_000, 100_000) / 100, currency: 'EUR' }, user: { age: int(0, 150), gender: 'x', country: 'BR', city: 'São Paulo' } });
        break;
      case 2:
        Object.assign(e, { id: `${id}-é-🎉-中`, type: 'ünïcödé 🎉', properties: { 'ключ': 'значение', '🔑': '𝔘𝔫𝔦', '\u2028': '\u2029' } });
        break;
      case 3:
        Object.assign(e, { id: `${id}-`.padEnd(128, 'x'), type: 't'.repeat(64), source: 's'.repeat(64), userId: 'u'.repeat(128), properties: { v: 'v'.repeat(1024) } });
        break;
      case 4:
        e.properties = Object.fromEntries(Array.from({ length: 64 }, (_, k) => [`p${k}`, k % 4 === 0 ? null : k % 4 === 1 ? k * 1.5 : k % 4 === 2 ? k % 8 === 2 : `v${k}`]));
        break;
      case 5:
        // The same kind of instant, written in India's offset.
        e.occurredAt = new Date(now - int(0, 600_000) + 19_800_000).toISOString().replace('Z', '+05:30');
        break;
      case 6:
        e.occurredAt = int(0, 86_400_000); // 1970: the default partition
        break;
      case 7:
        e.occurredAt = '9999-12-31T23:59:59.999+00:00'.replace('59.999', `${String(int(10, 59))}.${String(int(100, 999))}`);
        break;
      case 8:
        e.occurredAt = `0001-01-01T00:00:${String(int(10, 59))}Z`; // the first instant PostgreSQL stores
        break;
      case 9:
        e.properties = { sql: "'; drop table events; --", copy: '\\N\t\\.\n\r', quote: '"\\"', nul: 'not \\u0000 (escaped text)', big: 1e21, small: -1e-7 };
        break;
    }
    return e;
  }

  const baseJson = (): Record<string, unknown> => ({ id: `bad-${int(0, 1e9)}`, type: 't', source: 's', occurredAt: now });
  const randomText = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(int(32, 126))).join('');
  const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const wrongValue = (): unknown => pick([42, -1, 1.5, '', 'x', true, false, null, [], [1, 2], {}, { a: 1 }, 'x'.repeat(200)]);
  const insertAt = (buf: Buffer, bytes: Buffer): Buffer => {
    const at = int(1, Math.max(1, buf.length - 1));
    return Buffer.concat([buf.subarray(0, at), bytes, buf.subarray(at)]);
  };

  /** One malformed message of a random kind; `kind` names it for the coverage check. */
  function invalid(): { kind: string; value: Buffer | null } {
    const kind = pick(['not-json', 'truncated', 'wrong-type', 'unknown-field', 'huge', 'nul', 'surrogate', 'empty', 'null', 'bad-date', 'deep', 'binary', 'top-level'] as const);
    switch (kind) {
      case 'not-json':
        return { kind, value: utf8(pick(['{oops', 'undefined', "{'id': 1}", '{"id":}', 'NaN', '{"a":1,}', `x${randomText(int(1, 200))}`])) };
      case 'truncated': {
        const whole = utf8(encodeEvent({ id: `tr-${int(0, 1e9)}`, type: 'ad.view', source: 'web', occurredAt: now, properties: { a: 'b' } }));
        return { kind, value: whole.subarray(0, int(1, whole.length - 1)) };
      }
      case 'wrong-type': {
        const o = baseJson();
        o[pick(['id', 'type', 'source', 'occurredAt', 'userId', 'sessionId', 'funnelStage', 'revenue', 'user', 'properties'])] = wrongValue();
        if (rnd() < 0.3) o['user'] = { age: pick([-1, 151, 25.5, '25']) };
        if (rnd() < 0.3) o['revenue'] = { amount: pick(['1', Number.MAX_VALUE, 1e13]), currency: pick(['usd', 'EURO', 1]) };
        return { kind, value: utf8(JSON.stringify(o)) };
      }
      case 'unknown-field':
        return { kind, value: utf8(JSON.stringify({ ...baseJson(), [pick(['extra', '__proto__', 'constructor', 'events', 'ID'])]: { polluted: true } })) };
      case 'huge': {
        const o = baseJson();
        const r = rnd();
        if (r < 0.02) o['properties'] = { pad: 'x'.repeat(MAX_EVENT_BYTES + int(1, 50_000)) }; // over the message size limit
        else if (r < 0.5) o['id'] = 'i'.repeat(int(129, 20_000));
        else if (r < 0.8) o['properties'] = { v: 'v'.repeat(int(1_025, 50_000)) };
        else o['properties'] = Object.fromEntries(Array.from({ length: int(65, 500) }, (_, k) => [`p${k}`, k]));
        return { kind, value: utf8(JSON.stringify(o)) };
      }
      case 'nul': {
        const o = baseJson();
        const r = rnd();
        if (r < 0.4) return { kind, value: insertAt(utf8(JSON.stringify(o)), Buffer.from([0])) }; // a raw NUL byte
        if (r < 0.7) o['type'] = 'a\u0000b';
        else o['properties'] = { 'k\u0000': 'v' };
        return { kind, value: utf8(JSON.stringify(o)) };
      }
      case 'surrogate': {
        const o = baseJson();
        const r = rnd();
        if (r < 0.3) return { kind, value: insertAt(utf8(JSON.stringify(o)), Buffer.from([0xed, 0xa0, 0x80])) }; // a surrogate in UTF-8: not UTF-8
        if (r < 0.6) o['id'] = `x\ud800y`;
        else if (r < 0.8) o['properties'] = { k: '\udfff' };
        else o['properties'] = { '\ud83c': 1 };
        return { kind, value: utf8(JSON.stringify(o)) };
      }
      case 'empty':
        return { kind, value: Buffer.alloc(0) };
      case 'null':
        return rnd() < 0.5 ? { kind, value: null } : { kind, value: utf8(pick(['null', '{"id":null,"type":null,"source":null,"occurredAt":null}', '{}'])) };
      case 'bad-date': {
        const o = baseJson();
        o['occurredAt'] = pick(['2026-13-01T00:00:00Z', '2026-02-29T00:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20T12:00:00', '2026-11-20', 'yesterday', '', -1, 1e20, 253_402_300_800_000, 1.5, '0000-01-01T00:00:00Z', '2026-11-20 12:00:00Z', '+012026-11-20T12:00:00Z']);
        return { kind, value: utf8(JSON.stringify(o)) };
      }
      case 'deep': {
        const depth = int(10, 50_000);
        return rnd() < 0.5
          ? { kind, value: utf8(`${'['.repeat(depth)}${']'.repeat(depth)}`) }
          : { kind, value: utf8(JSON.stringify(baseJson()).replace(/}$/, `,"properties":{"k":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}}`)) };
      }
      case 'binary':
        return { kind, value: randomBytes(int(1, 2_000)) };
      case 'top-level':
        return { kind, value: utf8(pick(['[]', '[{"id":"x","type":"t","source":"s","occurredAt":0}]', '"event"', '0', 'true', '{"events":[]}'])) };
    }
  }

  const key = (): Buffer | string | null => pick([null, `k-${int(0, 50)}`, randomBytes(int(1, 16)), '']);
  return { valid, invalid, key, shuffle: <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  } };
}

const sha = (b: Buffer | null): string => (b === null || b.length === 0 ? '(none)' : createHash('sha256').update(b).digest('hex'));

test(`fuzz - ${INVALID} malformed messages among ${VALID} valid events: each valid event counted once, each malformed one dead-lettered once with its bytes, no worker crash`, async (t) => {
  t.diagnostic(`seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
  const f = fuzzer(SEED);
  const messages: Message[] = [];
  const identities = new Set<string>();
  const reasons = new Map<string, number>();
  const kinds = new Set<string>();
  const deadHashes: string[] = [];
  let deadOver64KiB = 0;
  /** Queue a message; its expected fate is the domain's verdict on its exact bytes. */
  // Retention (KEYFLOW_RETENTION_DAYS, 30 by default): an older event is a dead letter too.
  const cutoff = retentionCutoffMs(Date.now(), 30);
  // KEYFLOW_MAX_FUTURE (1d by default): an event further ahead (year 9999) is a dead letter too.
  const latest = Date.now() + 86_400_000;
  const add = (key: Message['key'], value: Buffer | null): boolean => {
    const decoded = decodeEvent(value);
    const verdict = decoded.ok && decoded.event.occurredAt < cutoff ? { ok: false as const, reason: 'expired' }
      : decoded.ok && decoded.event.occurredAt > latest ? { ok: false as const, reason: 'future' } : decoded;
    if (verdict.ok) identities.add(identityOf(verdict.event));
    else {
      reasons.set(verdict.reason, (reasons.get(verdict.reason) ?? 0) + 1);
      deadHashes.push(sha(value));
      if ((value?.length ?? 0) > 65_536) deadOver64KiB++;
    }
    messages.push({ key, value });
    // The schema's verdict: an expired or future event is a well-formed event all the same.
    return decoded.ok;
  };

  for (let i = 0; i < VALID; i++) {
    const input = f.valid(i);
    const value = utf8(JSON.stringify(input));
    assert.ok(add(input.userId ?? input.id, value), `valid event ${i} is valid: ${value.toString().slice(0, 300)}`);
    // Replays: the same bytes, and the same instant spelled as epoch ms (which the schema
    // takes only from 1970 on: before that, the domain says it is not an event).
    if (i % 17 === 0) add(input.id, value);
    if (i % 23 === 0) {
      const ms = typeof input.occurredAt === 'number' ? input.occurredAt : Date.parse(input.occurredAt);
      add(input.id, utf8(JSON.stringify({ ...input, occurredAt: ms })));
    }
  }
  let malformed = 0;
  while (malformed < INVALID) {
    const { kind, value } = f.invalid();
    // A generator may hit a valid event by chance: it is then simply one more valid event.
    if (!add(f.key(), value)) {
      malformed++;
      kinds.add(kind);
    }
  }
  const dead = deadHashes.length;
  assert.equal(kinds.size, 13, `every kind of malformed message is in the mix: ${[...kinds].join(', ')}`);
  assert.deepEqual([...reasons.keys()].sort(), ['empty', 'expired', 'future', 'not-json', 'schema', 'too-large']);
  t.diagnostic(`${messages.length} messages: ${identities.size} distinct events, ${dead} to dead-letter (${JSON.stringify(Object.fromEntries(reasons))})`);

  // Straight to the topic, shuffled; a message near the broker's size limit goes alone.
  const shuffled = f.shuffle(messages);
  let batch: Message[] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    if (batch.length > 0) await producer.send({ topic: iso.topic, acks: -1, messages: batch });
    batch = [];
    bytes = 0;
  };
  for (const m of shuffled) {
    const size = m.value?.length ?? 0;
    if (bytes + size > 200_000) await send();
    batch.push(m);
    bytes += size;
  }
  await send();

  const counts = async () => {
    const [r] = await iso.db.sql<[{ events: number; rolled: number; dead: number }]>`
      select (select count(*)::int from events) as events, (select coalesce(sum(events), 0)::int from rollups_minute) as rolled,
        (select count(*)::int from dead_letters) as dead`;
    return r;
  };
  const got = await eventually(counts, (c) => c.events >= identities.size && c.dead >= dead, 120_000, 250);
  await new Promise((r) => setTimeout(r, 1_000));
  // Each dead letter is one malformed message, byte for byte, with the domain's reason: its
  // length and SHA-256 describe the whole value, and raw keeps its first 64 KiB
  // (KEYFLOW_DEAD_LETTER_MAX_BYTES' default) exactly.
  const stored = await iso.db.sql<{ h: string | null; reason: string }[]>`
    select case when raw_length is null or raw_length = 0 then '(none)' else encode(raw_sha256, 'hex') end as h, reason from dead_letters`;
  const [prefixes] = await iso.db.sql<[{ bad: number; cut: number }]>`
    select count(*) filter (where raw is not null and (octet_length(raw) <> least(raw_length, 65536) or sha256(raw) <> raw_sha256 and raw_length <= 65536))::int as bad,
      count(*) filter (where raw_length > 65536)::int as cut
    from dead_letters`;
  assert.equal(prefixes.bad, 0, 'raw is the value, or its first 64 KiB when longer');
  assert.equal(prefixes.cut, deadOver64KiB, 'exactly the values over 64 KiB are cut');
  const storedReasons = new Map<string, number>();
  for (const r of stored) storedReasons.set(r.reason, (storedReasons.get(r.reason) ?? 0) + 1);
  assert.deepEqual(storedReasons, reasons, 'no valid event was refused by the store (no store-rejected)');
  assert.deepEqual(stored.map((r) => r.h).sort(), deadHashes.sort());

  assert.deepEqual(await counts(), { events: identities.size, rolled: identities.size, dead });
  assert.deepEqual(got, { events: identities.size, rolled: identities.size, dead });

  // The API pages through all of them.
  let listed = 0;
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: unknown[]; nextCursor: string | null } } = await getJson(`${kf.url}/v1/dead-letters?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.equal(page.status, 200);
    listed += page.body.items.length;
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  assert.equal(listed, dead);

  const m = await (await fetch(`${kf.url}/metrics`)).text();
  assert.equal(metricValue(m, 'keyflow_dead_letters_total'), dead);
  assert.equal(metricValue(m, 'keyflow_worker_restarts_total'), 0, 'no worker thread crashed');
  assert.equal(kf.child.exitCode, null);
  assert.equal((await getJson(`${kf.url}/readyz`)).status, 200);
});
