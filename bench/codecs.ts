// What decoding a compressed record batch costs keyflow's consumer, per event and per codec:
// the bench's realistic events (bench/generate.ts) in record batches encoded by kafkajs with
// each codec keyflow registers (runtime/kafka/codecs.ts), then decoded by kafkajs' own
// record-batch decoder — the code a worker's fetch runs — on this thread. CPU time is the
// process's (user + system, so a napi codec's work is counted wherever it runs); the codec's
// cost per event is its figure minus uncompressed's.
//
//   npx tsx bench/codecs.ts [--events 100000] [--batch 100] [--rounds 3]
//
// --batch: records per batch (the Java client's default 16 KiB batch holds ~40 of these
// events; librdkafka's, up to 10,000). The best of --rounds is reported.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { CODEC_TYPES, registerCodecs } from '../runtime/kafka/index.ts';
import { EventFactory } from './generate.ts';

const require = createRequire(import.meta.url);
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: { offsetDelta: number; key: Buffer; value: Buffer }) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (b: object) => Promise<{ buffer: Buffer }> };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: unknown[] }>;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown };

const { values } = parseArgs({ options: { events: { type: 'string' }, batch: { type: 'string' }, rounds: { type: 'string' } }, strict: true });
const events = Number(values.events ?? 100_000);
const perBatch = Number(values.batch ?? 100);
const rounds = Number(values.rounds ?? 3);
registerCodecs();

const factory = new EventFactory({ seed: 1, idPrefix: 'codec-bench-', users: 10_000, zipf: 0.8, hotKeyShare: 0 });
const messages = Array.from({ length: events }, () => {
  const t = factory.next();
  return { key: Buffer.from(t.key), value: Buffer.from(`${t.head}${Date.now()}${t.tail}`) };
});
const rawBytes = messages.reduce((a, m) => a + m.key.length + m.value.length, 0);

type Row = { codec: string; batchBytes: number; usPerEvent: number };
const rows: Row[] = [];
for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
  const batches: Buffer[] = [];
  for (let i = 0; i < messages.length; i += perBatch) {
    const slice = messages.slice(i, i + perBatch);
    const records = slice.map((m, offsetDelta) => Record({ offsetDelta, ...m }));
    const compression = codec === 'none' ? 0 : CODEC_TYPES[codec];
    batches.push((await RecordBatch({ compression, firstOffset: Long.fromNumber(i), lastOffsetDelta: slice.length - 1, records })).buffer);
  }
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const cpu = process.cpuUsage();
    let decoded = 0;
    for (const b of batches) decoded += (await decodeBatch(new Decoder(b))).records.length;
    const used = process.cpuUsage(cpu);
    if (decoded !== events) throw new Error(`${codec}: decoded ${decoded} of ${events} records`);
    best = Math.min(best, (used.user + used.system) / events);
  }
  rows.push({ codec, batchBytes: batches.reduce((a, b) => a + b.length, 0), usPerEvent: best });
}

const none = rows[0] as Row;
console.log(`${events} events (${(rawBytes / events).toFixed(0)} bytes of key + value each), ${perBatch} per batch, best of ${rounds} rounds`);
console.log('| codec | bytes in Kafka | CPU per event decoded | of which the codec |');
console.log('|---|---:|---:|---:|');
for (const r of rows) {
  const ratio = r.batchBytes / none.batchBytes;
  const extra = r.codec === 'none' ? '—' : `${(r.usPerEvent - none.usPerEvent).toFixed(2)} µs`;
  console.log(`| ${r.codec} | ${(r.batchBytes / 1024 / 1024).toFixed(1)} MiB (${(ratio * 100).toFixed(0)}%) | ${r.usPerEvent.toFixed(2)} µs | ${extra} |`);
}
