export { spawnWorkerThread } from './spawn.ts';
export { PartitionWorker } from './partition-worker.ts';
export { LiveWriter } from './live-counters.ts';
export type { InsertedEvent } from './live-counters.ts';
export { ownerOf, recordAssignment, assignmentKey } from './assignment.ts';
export type { PartitionOwner } from './assignment.ts';
export { readStallExcuses, recordStallExcuse, stallExcuseKey } from './stall-excuse.ts';
