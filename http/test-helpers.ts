// Test doubles for the edge's ports, for tests of the edge's own behaviour only: ports that
// record what they were handed, and ports that fail the test if anything calls them. Kafka,
// PostgreSQL and Redis are never imitated here; the full path is tested against real ones.
import assert from 'node:assert/strict';
import { createApp } from './app.ts';
import type { ActorsPort, EdgeDeps, EncodedEvent, EdgeOptions, HealthPort, IngestPort, MetricsPort, QueryPort } from './ports.ts';

/** A valid event as a producer writes it. */
export function eventInput(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: `e-${i}`, type: 'page.view', source: 'web', occurredAt: '2026-11-20T12:00:00Z', ...extra };
}

/** A publish port that records every batch and resolves at once. */
export function recordingIngest(): IngestPort & { readonly batches: (readonly EncodedEvent[])[] } {
  const batches: (readonly EncodedEvent[])[] = [];
  return {
    batches,
    publish(events) {
      batches.push(events);
      return Promise.resolve();
    },
  };
}

export const ingestMustNotBeCalled: IngestPort = {
  publish: () => assert.fail('publish must not be called'),
};

export const queriesMustNotBeCalled: QueryPort = {
  getEvent: () => assert.fail('getEvent must not be called'),
  reportEvents: () => assert.fail('reportEvents must not be called'),
  listDeadLetters: () => assert.fail('listDeadLetters must not be called'),
};

export const healthMustNotBeCalled: HealthPort = {
  readiness: () => assert.fail('readiness must not be called'),
};

export const metricsMustNotBeCalled: MetricsPort = {
  contentType: 'text/plain',
  render: () => assert.fail('render must not be called'),
};

export const defaultOptions: EdgeOptions = { maxBodyBytes: 64 * 1024, maxBatchEvents: 1000, apiKeys: [] };

/** An app whose ports all fail the test unless the test replaces them. */
/** An actors port that fails the test if asked. */
export const actorsMustNotBeCalled: ActorsPort = {
  locate: () => Promise.reject(new Error('actors.locate must not be called')),
  locateHere: () => Promise.reject(new Error('actors.locateHere must not be called')),
};

export function appWith(overrides: Partial<Omit<EdgeDeps, 'options'>> & { options?: Partial<EdgeOptions> } = {}) {
  return createApp({
    ingest: overrides.ingest ?? ingestMustNotBeCalled,
    queries: overrides.queries ?? queriesMustNotBeCalled,
    health: overrides.health ?? healthMustNotBeCalled,
    metrics: overrides.metrics ?? metricsMustNotBeCalled,
    actors: overrides.actors ?? actorsMustNotBeCalled,
    ...(overrides.live === undefined ? {} : { live: overrides.live }),
    ...(overrides.stream === undefined ? {} : { stream: overrides.stream }),
    options: { ...defaultOptions, ...overrides.options },
  });
}

/** A POST /v1/events request init with a JSON body. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } };
}

/** A promise with its resolve and reject in hand. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
