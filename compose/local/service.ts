// The seam between the orchestration (`up`, `status`, `down`) and each service's own
// knowledge of how it is installed, started and stopped.
import type { Endpoint } from './probe.ts';
import type { Settings } from './settings.ts';

export type ServiceName = 'postgres' | 'redis' | 'kafka' | 'jaeger' | 'prometheus';

/** One local service. `start` is only called while nothing answers on its port. */
export interface LocalService {
  readonly name: ServiceName;
  endpoint(settings: Settings): Endpoint;
  /** Debian packages that must be installed before `start` can work. */
  missingPackages(): Promise<readonly string[]>;
  /** Start it and resolve once it serves requests; reject with its log's tail otherwise. */
  start(settings: Settings): Promise<void>;
  /**
   * Stop it if `up` started it (its pid file says so) and resolve true; resolve false when
   * there was nothing of ours to stop. Never touches a process someone else started.
   */
  stop(settings: Settings): Promise<boolean>;
}

/** Raised when a service could not be installed or started; `cause` has the details. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  readonly code = 'KEYFLOW_SERVICE_START_FAILED';
  readonly service: ServiceName;
  constructor(service: ServiceName, message: string, options?: ErrorOptions) {
    super(`${service}: ${message}`, options);
    this.service = service;
  }
}
