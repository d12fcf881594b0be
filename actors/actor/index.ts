export { DedupWindow } from './dedup-window.ts';
export { KeyActor } from './actor.ts';
export type { Pending, ActorSnapshot, ActorOptions } from './actor.ts';
export { ActorRegistry } from './registry.ts';
export type { RegistryOptions } from './registry.ts';
