export { createReadiness } from './readiness.ts';
export type { ReadinessSources } from './readiness.ts';
export { createActorDirectory } from './actor-directory.ts';
export type { DirectoryOptions } from './actor-directory.ts';
export { createDecodePool } from './decode-pool.ts';
export type { DecodePool } from './decode-pool.ts';
export { createRateLimiter } from './rate-limiter.ts';
export type { RateLimiterOptions } from './rate-limiter.ts';
