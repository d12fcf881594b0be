export { spawnWorkerThread } from './spawn.ts';
export { PartitionWorker } from './partition-worker.ts';
export { liveKeys, LIVE_TTL_SECONDS } from './live-counters.ts';
export { ownerOf, recordAssignment, assignmentKey } from './assignment.ts';
export type { PartitionOwner } from './assignment.ts';
