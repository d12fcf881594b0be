export { loadConfig, withEdgeToken, ConfigError, configVariables, API_KEY_SCOPES } from './config.ts';
export type { Config, ApiKeyConfig, ApiKeyScope } from './config.ts';
