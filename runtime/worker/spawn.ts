// How a worker thread is started. In development the sources are TypeScript run by tsx,
// whose loader does not reach worker threads by itself: the thread then registers it before
// importing the entry. Built code (dist/*.js) starts the entry directly.
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';

const entry = new URL(`./entry${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** Start one worker thread running runtime/worker/entry with `workerData`. */
export function spawnWorkerThread(workerData: unknown, transferList: readonly TransferListItem[], resourceLimits?: ResourceLimits): Worker {
  const options = { workerData, transferList: [...transferList], ...(resourceLimits ? { resourceLimits } : {}) };
  if (entry.pathname.endsWith('.js')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
