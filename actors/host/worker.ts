// The actor host as a Web Worker module, for hosts that have Web Workers rather than
// node:worker_threads (Deno, browsers):
//   new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })
// then comlink's wrap<HostWorkerApi>(worker). Node keeps its own entry in runtime/worker/.
// It refuses to run anywhere but a worker's global scope, where comlink's default endpoint is.
import { expose, proxy } from 'comlink';
import { createActorHost } from './actor-host.ts';
import type { HostWorkerApi } from './protocol.ts';

const scope = globalThis as unknown as { WorkerGlobalScope?: abstract new () => object };
if (scope.WorkerGlobalScope === undefined || !(globalThis instanceof scope.WorkerGlobalScope)) {
  throw new Error('actors/host/worker.ts runs only as a Web Worker module');
}

const api: HostWorkerApi = {
  // Options cross as a structured clone, so the host keeps the real clock.
  open: (options) => proxy(createActorHost(options)),
};
expose(api);
