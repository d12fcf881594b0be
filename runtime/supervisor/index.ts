export { Supervisor, WorkerUnavailableError, RestartLimitError } from './supervisor.ts';
export type { SupervisorOptions } from './supervisor.ts';
