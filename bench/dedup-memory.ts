// Heap bytes per in-memory dedup entry, as the workers hold them: the identity of an event
// parsed from JSON (its occurredAt and id), remembered in an actor's window, the event itself
// gone. The figure behind KEYFLOW_DEDUP_MAX_ENTRIES and KEYFLOW_COLD_DEDUP_ENTRIES' sizing.
//
//   node --expose-gc --import tsx bench/dedup-memory.ts [entries=500000] [actors=1000]
import { randomUUID } from 'node:crypto';
import { DedupWindow } from '../actors/actor/index.ts';
import { identityOf } from '../actors/event/index.ts';

const entries = Number(process.argv[2] ?? 500_000);
const actors = Number(process.argv[3] ?? 1_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

const parsed = (): { id: string; occurredAt: number } =>
  JSON.parse(JSON.stringify({ id: randomUUID(), occurredAt: Date.now() - Math.floor(Math.random() * 1e8) })) as { id: string; occurredAt: number };

gc();
const before = process.memoryUsage().heapUsed;
const windows = Array.from({ length: actors }, () => new DedupWindow(Math.ceil(entries / actors), 300_000));
const now = Date.now();
for (let i = 0; i < entries; i++) windows[i % actors]!.add(identityOf(parsed()), now);
gc();
const after = process.memoryUsage().heapUsed;
const held = windows.reduce((n, w) => n + w.size, 0);
process.stdout.write(`${held} entries in ${actors} windows: ${Math.round((after - before) / held)} bytes of heap per entry\n`);
