// The domain of keyflow: the event contract and per-key actor behaviour. Pure TypeScript —
// no node: imports, no I/O — so it runs unchanged in Node and Deno.
export * from './event/index.ts';
export * from './actor/index.ts';
export * from './command/index.ts';
export { liveDeltas } from './live-deltas.ts';
export type { MinuteDelta } from './live-deltas.ts';
