export { loadConfig, ConfigError, configVariables } from './config.ts';
export type { Config } from './config.ts';
