export { createReadiness } from './readiness.ts';
export type { ReadinessSources } from './readiness.ts';
