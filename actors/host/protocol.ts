// What actors/host/worker.ts answers over comlink: types only, so a caller can import them
// without running the worker module.
import type { ProxyMarked } from 'comlink';
import type { RegistryOptions } from '../actor/index.ts';
import type { ActorHost } from './actor-host.ts';

/** The object a host worker exposes on its global scope. */
export interface HostWorkerApi {
  /** A fresh actor host inside the worker, answered as a comlink proxy (release it when done). */
  open(options: RegistryOptions): ActorHost & ProxyMarked;
}
