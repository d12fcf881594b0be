// The hand-written OpenAPI 3.1 description of the routes the edge really serves. Rule: it
// describes exactly the routes createApp registers — app.test.ts fails when a route is added
// or removed on one side only.

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const retryAfter = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } } };
const instant = { type: 'string', description: 'RFC 3339 date-time or epoch milliseconds' };
const eventProperties = {
  id: { type: 'string', minLength: 1, maxLength: 128 },
  type: { type: 'string', minLength: 1, maxLength: 64 },
  source: { type: 'string', minLength: 1, maxLength: 64 },
  occurredAt: { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', minimum: 0 }] },
  userId: { type: 'string', minLength: 1, maxLength: 128 },
  sessionId: { type: 'string', minLength: 1, maxLength: 128 },
  funnelStage: { type: 'string', enum: ['top', 'bottom'] },
  revenue: {
    type: 'object',
    additionalProperties: false,
    required: ['amount', 'currency'],
    properties: { amount: { type: 'number' }, currency: { type: 'string', pattern: '^[A-Z]{3}$' } },
  },
  user: {
    type: 'object',
    additionalProperties: false,
    properties: {
      age: { type: 'integer', minimum: 0, maximum: 150 },
      gender: { type: 'string', maxLength: 32 },
      country: { type: 'string', maxLength: 64 },
      city: { type: 'string', maxLength: 128 },
    },
  },
  properties: {
    type: 'object',
    maxProperties: 64,
    additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
  },
};
const v1Security = [{ bearer: [] }, { apiKey: [] }];

/** The OpenAPI document served at GET /openapi.json. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'keyflow',
    version: '1',
    description: 'Real-time event ingestion and analytics. /v1 routes need an API key when the server has any configured.',
  },
  paths: {
    '/v1/events': {
      post: {
        summary: 'Ingest one event, an array of events, or { "events": [...] } (at most 1000)',
        security: v1Security,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  { $ref: '#/components/schemas/Event' },
                  { type: 'array', items: { $ref: '#/components/schemas/Event' }, minItems: 1, maxItems: 1000 },
                  {
                    type: 'object',
                    required: ['events'],
                    additionalProperties: false,
                    properties: { events: { type: 'array', items: { $ref: '#/components/schemas/Event' }, minItems: 1, maxItems: 1000 } },
                  },
                ],
              },
            },
          },
        },
        responses: {
          '202': {
            description: 'The valid events were acknowledged by Kafka; invalid ones are listed by index',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/IngestSummary' } } },
          },
          '400': {
            description: 'Malformed JSON (invalid_json), a body of no accepted shape (invalid_body), or no valid event (validation_failed, with the IngestSummary fields)',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
          '401': error('API key missing or wrong (unauthorized)'),
          '413': error('Body larger than the limit (payload_too_large) or more than 1000 events (too_many_events)'),
          '503': { ...error('Kafka unavailable (kafka_unavailable); nothing was accepted'), headers: retryAfter },
        },
      },
    },
    '/v1/events/{id}': {
      get: {
        summary: 'A stored event',
        security: v1Security,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 128 } }],
        responses: {
          '200': { description: 'The event', content: { 'application/json': { schema: { $ref: '#/components/schemas/StoredEvent' } } } },
          '401': error('API key missing or wrong'),
          '404': error('No such event (not_found)'),
        },
      },
    },
    '/v1/actors/{key}': {
      get: {
        summary: 'The live state of the actor that owns a partition key, wherever it lives',
        security: v1Security,
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }],
        responses: {
          '200': { description: 'worker, partition, pending events, dedup window size, counts', content: { 'application/json': { schema: { type: 'object' } } } },
          '401': error('API key missing or wrong'),
          '404': error('No live actor for this key (not_found)'),
        },
      },
    },
    '/internal/v1/actors/{key}': {
      get: {
        summary: 'The same, answered by this process only (how processes ask each other when scaled out)',
        security: v1Security,
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string', minLength: 1 } }],
        responses: {
          '200': { description: 'The actor', content: { 'application/json': { schema: { type: 'object' } } } },
          '401': error('API key missing or wrong'),
          '404': error('No live actor for this key in this process (not_found)'),
        },
      },
    },
    '/v1/reports/events': {
      get: {
        summary: 'Event counts in [from, to), optionally filtered and grouped',
        security: v1Security,
        parameters: [
          { name: 'from', in: 'query', schema: instant, description: 'inclusive; default to − 24 h' },
          { name: 'to', in: 'query', schema: instant, description: 'exclusive; default the next whole minute' },
          { name: 'source', in: 'query', schema: { type: 'string', maxLength: 64 } },
          { name: 'type', in: 'query', schema: { type: 'string', maxLength: 64 } },
          { name: 'funnelStage', in: 'query', schema: { type: 'string', enum: ['top', 'bottom'] } },
          { name: 'groupBy', in: 'query', schema: { type: 'string' }, description: 'comma list of type, source, funnelStage' },
        ],
        responses: {
          '200': { description: 'The report', content: { 'application/json': { schema: { $ref: '#/components/schemas/EventsReport' } } } },
          '400': error('Invalid query (invalid_query): bad instant, from ≥ to, more than 366 days, unknown groupBy'),
          '401': error('API key missing or wrong'),
        },
      },
    },
    '/v1/dead-letters': {
      get: {
        summary: 'Kafka messages that could not become events (undecodable, invalid, too large, refused by the store), newest first',
        security: v1Security,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'nextCursor of the previous page' },
        ],
        responses: {
          '200': { description: 'One page', content: { 'application/json': { schema: { $ref: '#/components/schemas/DeadLetterPage' } } } },
          '400': error('Invalid query (invalid_query): limit out of 1..1000, unknown parameter, or a cursor this server did not hand out'),
          '401': error('API key missing or wrong'),
        },
      },
    },
    '/healthz': {
      get: {
        summary: 'Liveness',
        responses: {
          '200': {
            description: 'The process runs',
            content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ok' } } } } },
          },
        },
      },
    },
    '/readyz': {
      get: {
        summary: 'Readiness of Kafka, PostgreSQL, Redis and workers (Redis down is reported as degraded, not unready)',
        responses: {
          '200': { description: 'Ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
          '503': { ...error('Not ready (not_ready); the body also carries ready and checks'), headers: retryAfter },
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/openapi.json': {
      get: {
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/': {
      get: {
        summary: 'The web console (HTML; needs no API key, its data calls do)',
        responses: {
          '200': { description: 'the page', content: { 'text/html': { schema: { type: 'string' } } } },
          '304': { description: 'not modified (If-None-Match matched the ETag)' },
        },
      },
    },
    '/console/{file}': {
      get: {
        summary: "A script or style sheet of the web console",
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'the file', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } },
          '304': { description: 'not modified (If-None-Match matched the ETag)' },
          '404': error('no such file'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    },
    schemas: {
      Event: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'source', 'occurredAt'],
        properties: eventProperties,
      },
      StoredEvent: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'type', 'source', 'occurredAt', 'receivedAt'],
        properties: {
          ...eventProperties,
          occurredAt: { type: 'string', format: 'date-time' },
          receivedAt: { type: 'string', format: 'date-time' },
        },
      },
      IngestSummary: {
        type: 'object',
        required: ['accepted', 'ids', 'rejected'],
        properties: {
          accepted: { type: 'integer' },
          ids: { type: 'array', items: { type: 'string' } },
          rejected: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'errors'],
              properties: {
                index: { type: 'integer' },
                errors: { type: 'array', items: { $ref: '#/components/schemas/FieldError' } },
              },
            },
          },
        },
      },
      FieldError: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
      EventsReport: {
        type: 'object',
        required: ['from', 'to', 'total', 'groups'],
        properties: {
          from: { type: 'string', format: 'date-time' },
          to: { type: 'string', format: 'date-time' },
          total: { type: 'integer' },
          groups: {
            type: 'array',
            items: {
              type: 'object',
              required: ['count'],
              properties: {
                type: { type: 'string' },
                source: { type: 'string' },
                funnelStage: { type: ['string', 'null'] },
                count: { type: 'integer' },
              },
            },
          },
        },
      },
      DeadLetterPage: {
        type: 'object',
        required: ['items', 'nextCursor'],
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/DeadLetter' } },
          nextCursor: { type: ['string', 'null'], description: 'pass as cursor for the next page; null on the last page' },
        },
      },
      DeadLetter: {
        type: 'object',
        required: ['id', 'topic', 'partition', 'offset', 'key', 'raw', 'rawPreview', 'reason', 'error', 'createdAt'],
        properties: {
          id: { type: 'string' },
          topic: { type: 'string' },
          partition: { type: 'integer' },
          offset: { type: 'string', description: 'Kafka offset, decimal' },
          key: { type: ['string', 'null'], contentEncoding: 'base64' },
          raw: { type: ['string', 'null'], contentEncoding: 'base64', description: 'the message value' },
          rawPreview: { type: ['string', 'null'], description: 'the first 256 characters of the value as UTF-8' },
          reason: { type: 'string', description: 'not-json, schema, empty, too-large, store-rejected' },
          error: { type: 'string' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Readiness: {
        type: 'object',
        required: ['ready', 'checks'],
        properties: {
          ready: { type: 'boolean' },
          checks: {
            type: 'object',
            additionalProperties: {
              type: 'object',
              required: ['ok'],
              properties: {
                ok: { type: 'boolean' },
                detail: { type: 'string' },
                degraded: { type: 'boolean', description: 'true on a failing check that leaves the process ready (Redis: only live views suffer)' },
              },
            },
          },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
          },
        },
      },
    },
  },
} as const;
