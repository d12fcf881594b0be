export { loadConfig, ConfigError, configVariables, API_KEY_SCOPES } from './config.ts';
export type { Config, ApiKeyConfig, ApiKeyScope, FailBatchSwitch } from './config.ts';
export { mainHeapArgs, mainHeapCheck, MAIN_HEAP_MB_DEFAULT } from './heap.ts';
