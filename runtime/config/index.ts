export { loadConfig, ConfigError, configVariables } from './config.ts';
export type { Config, FailBatchSwitch } from './config.ts';
export { API_KEY_SCOPES, MIN_SECRET_LENGTH, parseApiKeys, secretProblem } from './api-keys.ts';
export type { ApiKeyConfig, ApiKeyScope, ApiKeysParse } from './api-keys.ts';
export { mainHeapArgs, mainHeapCheck, MAIN_HEAP_MB_DEFAULT } from './heap.ts';
