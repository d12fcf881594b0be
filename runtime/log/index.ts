export { createLogger, errorFields } from './log.ts';
export type { Logger, LogLevel } from './log.ts';
