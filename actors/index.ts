// The domain of keyflow: the event contract and per-key actor behaviour. Pure TypeScript —
// no node: imports, no I/O — so it runs unchanged in Node and Deno.
export * from './event/index.ts';
export * from './actor/index.ts';
export * from './command/index.ts';
