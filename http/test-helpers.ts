// Test doubles for the edge's ports, for tests of the edge's own behaviour only: ports that
// record what they were handed, and ports that fail the test if anything calls them. Kafka,
// PostgreSQL and Redis are never imitated here; the full path is tested against real ones.
// Every answer of an app made by appWith() is checked against the /openapi.json that app
// serves: a route whose real answer its published schema does not allow fails its test.
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { EdgeEnv } from './env.ts';
import { checkResponse, responseChecker, type ResponseChecker } from './openapi/conformance.ts';
import type { ActorsPort, EdgeDeps, EncodedEvent, EdgeOptions, ErasurePort, HealthPort, IngestPort, LivePort, MetricsPort, QueryPort } from './ports.ts';

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
  reportRevenue: () => assert.fail('reportRevenue must not be called'),
  reportDemographics: () => assert.fail('reportDemographics must not be called'),
  listDeadLetters: () => assert.fail('listDeadLetters must not be called'),
  listEvents: () => assert.fail('listEvents must not be called'),
  getUserProfile: () => assert.fail('getUserProfile must not be called'),
  timeseries: () => assert.fail('timeseries must not be called'),
  funnel: () => assert.fail('funnel must not be called'),
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

export const liveMustNotBeCalled: LivePort = {
  summary: () => Promise.reject(new Error('live.summary must not be called')),
  subscribe: () => Promise.reject(new Error('live.subscribe must not be called')),
  lag: () => Promise.reject(new Error('live.lag must not be called')),
};

/** An erasures port that fails the test if asked. */
export const erasuresMustNotBeCalled: ErasurePort = {
  produce: () => Promise.reject(new Error('erasures.produce must not be called')),
  record: () => Promise.reject(new Error('erasures.record must not be called')),
  get: () => Promise.reject(new Error('erasures.get must not be called')),
};

export function appWith(overrides: Partial<Omit<EdgeDeps, 'options'>> & { options?: Partial<EdgeOptions> } = {}) {
  return conforming(createApp({
    ingest: overrides.ingest ?? ingestMustNotBeCalled,
    queries: overrides.queries ?? queriesMustNotBeCalled,
    health: overrides.health ?? healthMustNotBeCalled,
    metrics: overrides.metrics ?? metricsMustNotBeCalled,
    actors: overrides.actors ?? actorsMustNotBeCalled,
    ...(overrides.rateLimit ? { rateLimit: overrides.rateLimit } : {}),
    ...(overrides.decoder ? { decoder: overrides.decoder } : {}),
    live: overrides.live ?? liveMustNotBeCalled,
    ...(overrides.stream === undefined ? {} : { stream: overrides.stream }),
    erasures: overrides.erasures ?? erasuresMustNotBeCalled,
    options: { ...defaultOptions, ...overrides.options },
  }));
}

// One compiled checker per distinct document: compiling is the slow part.
const checkers = new Map<string, ResponseChecker>();

/**
 * `app`, whose request() checks every answer against the document the app serves at
 * /openapi.json and throws (failing the test) when the answer does not conform.
 */
export function conforming(app: Hono<EdgeEnv>): Hono<EdgeEnv> {
  const request = app.request.bind(app);
  let checker: Promise<ResponseChecker> | undefined;
  const served = () =>
    (checker ??= (async () => {
      const text = await (await request('/openapi.json')).text();
      let c = checkers.get(text);
      if (c === undefined) checkers.set(text, (c = responseChecker(JSON.parse(text))));
      return c;
    })());
  app.request = (async (input: string | Request | URL, init?: RequestInit, ...rest: unknown[]) => {
    const res = await (request as (...a: unknown[]) => Response | Promise<Response>)(input, init, ...rest);
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const url = input instanceof Request ? input.url : String(input);
    const checked = await checkResponse(await served(), method, url, res);
    if (checked.errors.length > 0) {
      assert.fail(`the answer to ${method} ${url} does not match /openapi.json:\n  ${checked.errors.join('\n  ')}`);
    }
    return res;
  }) as typeof app.request;
  return app;
}

/** A POST /v1/events request init with a JSON body. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } };
}

export { deferred } from '../test/support/async.ts';
