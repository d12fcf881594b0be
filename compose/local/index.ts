// The door of compose/local: what the CLI, the test runner and the bench may use.
export { servicesUp, servicesStatus, servicesDown, formatStatus, ServicesUpError, coreServices, observabilityServices, allServices } from './services.ts';
export { jaegerBinary, jaegerOtlpUrl, jaegerQueryUrl, jaegerVersion } from './jaeger.ts';
export { alertRulesFile, prometheusConfig, startPrometheus } from './prometheus.ts';
export type { PrometheusOptions, RunningPrometheus, ScrapeTargets } from './prometheus.ts';
export type { ServiceStatus, UpResult, DownResult, Env } from './services.ts';
export { probeTcp, waitReachable } from './probe.ts';
export type { Endpoint, Reachability } from './probe.ts';
export { loadSettings, connectionEnv, repoRoot, ServicesSettingsError } from './settings.ts';
export type { Settings } from './settings.ts';
export type { ServiceName } from './service.ts';
export { ensureChromium, chromiumPath } from './chromium.ts';
export { connectJars, startConnectWorker, connectWorkerPom, jdbcSinkPom } from './connect.ts';
export type { ConnectJars, ConnectWorker, ConnectWorkerOptions } from './connect.ts';
export { ensureProducerTools, javaProducer } from './producers.ts';
export type { JavaProducer } from './producers.ts';
