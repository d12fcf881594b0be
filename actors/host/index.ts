export { createActorHost } from './actor-host.ts';
export type { ActorHost, ActorHostOptions, HostStats, HostedEvent, OfferOutcome } from './actor-host.ts';
export type { HostWorkerApi } from './protocol.ts';
