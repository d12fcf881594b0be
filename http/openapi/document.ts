// /openapi.json, generated. Rule: the document is built only from the routes' RouteDocs —
// the zod schemas that validate their queries, paths and bodies (converted as *input*) and
// type their answers (converted as *output*) — so it cannot say something the code does not
// do. Shared schemas (componentRegistry) become `components.schemas` and are `$ref`ed.
import { z } from 'zod';
import { requiredAccess } from '../auth/access.ts';
import { INTERNAL_TOKEN_HEADER } from '../auth/keys.ts';
import { componentRegistry, errorSchema } from './schemas.ts';
import type { ResponseDoc, RouteAuth, RouteDoc } from './route-doc.ts';

type Json = Record<string, unknown>;

/** An OpenAPI 3.1 document (only the parts keyflow writes). */
export type OpenApiDocument = {
  readonly openapi: '3.1.0';
  readonly info: Json;
  readonly paths: Record<string, Record<string, Json>>;
  readonly components: { readonly securitySchemes: Json; readonly schemas: Record<string, Json> };
};

const REF_PREFIX = '#/components/schemas/';
const RETRY_AFTER = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } };

/** Hono's `/v1/events/:id` as OpenAPI's `/v1/events/{id}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:(\w+)/g, '{$1}');
}

/**
 * Build the OpenAPI 3.1 document of `docs`. Throws when two routes claim the same method and
 * path, or two different schemas the same component name: both would be a lie in the document.
 *
 * @example
 * const doc = buildOpenApiDocument(allRouteDocs);
 * doc.paths['/v1/events/{id}']?.['get']; // { summary, parameters, responses, … }
 */
export function buildOpenApiDocument(docs: readonly RouteDoc[]): OpenApiDocument {
  const schemas: Record<string, Json> = {};
  const convert = (schema: z.ZodType, io: 'input' | 'output'): Json => hoist(toJson(schema, io), schemas);
  const paths: Record<string, Record<string, Json>> = {};
  for (const doc of docs) {
    const path = openApiPath(doc.path);
    const ops = (paths[path] ??= {});
    if (ops[doc.method] !== undefined) throw new Error(`two RouteDocs for ${doc.method.toUpperCase()} ${doc.path}`);
    ops[doc.method] = operation(doc, convert);
  }
  // The error body is what every `default` answer points at, used or not by a route.
  convert(errorSchema, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'keyflow',
      version: '1',
      description:
        'Real-time event ingestion and analytics. Generated from the zod schemas that validate each request and type each answer. ' +
        'Routes with a security requirement need an API key (Bearer or X-API-Key) when the server has any configured; ' +
        'x-keyflow-scope names the scope a route needs (taken from the table the guard enforces). Every error answer is the Error body.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        writeKey: { type: 'http', scheme: 'basic', description: "Segment's routes: the write key (an API key's secret with the ingest scope and no other) as the Basic user with an empty password, or `writeKey` in the body" },
        internalToken: { type: 'apiKey', in: 'header', name: INTERNAL_TOKEN_HEADER, description: 'the deployment token processes send each other on /internal/*' },
      },
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    },
  };
}

function operation(doc: RouteDoc, convert: (s: z.ZodType, io: 'input' | 'output') => Json): Json {
  const parameters = [
    ...(doc.params === undefined ? [] : parametersOf(convert(doc.params, 'input'), 'path', doc)),
    ...(doc.query === undefined ? [] : parametersOf(convert(doc.query, 'input'), 'query', doc)),
  ];
  const responses: Record<string, Json> = {};
  for (const [status, r] of Object.entries(doc.responses) as [string, ResponseDoc][]) {
    responses[status] = response(Number(status), r, convert);
  }
  responses['default'] = { description: 'Any other answer is an error in the common shape', content: { 'application/json': { schema: { $ref: `${REF_PREFIX}Error` } } } };
  const auth = publishedAuth(doc);
  return {
    summary: doc.summary,
    ...(doc.description === undefined ? {} : { description: doc.description }),
    ...(doc.tags === undefined ? {} : { tags: [...doc.tags] }),
    operationId: operationId(doc),
    security: auth === 'none' ? [] : auth === 'internal' ? [{ internalToken: [] }] : requiredAccess(doc.method, doc.path).kind === 'writeKey' ? [{ writeKey: [] }] : [{ bearer: [] }, { apiKey: [] }],
    ...(auth === 'none' ? {} : { 'x-keyflow-scope': auth }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(doc.body === undefined
      ? {}
      : { requestBody: { required: true, content: bodyContent(doc, convert(doc.body, 'input')) } }),
    responses,
  };
}

function bodyContent(doc: RouteDoc, schema: Json): Json {
  const content: Json = { [doc.bodyContentType ?? 'application/json']: { schema } };
  for (const alt of doc.alsoBodyAs ?? []) content[alt] = { schema };
  return content;
}

/**
 * The scope a route is published with: the one the guard enforces (http/auth/access.ts, the
 * one table), never a second opinion. A RouteDoc may state its `auth` as a check; a statement
 * that disagrees with the table is an error, not a document.
 */
function publishedAuth(doc: RouteDoc): RouteAuth {
  const access = requiredAccess(doc.method, doc.path);
  // A write key (Segment's routes) is an API key with the ingest scope and no other.
  const enforced = access.kind === 'public' ? 'none' : access.kind === 'internal' ? 'internal' : access.kind === 'writeKey' ? 'ingest' : access.scope;
  if (doc.auth !== undefined && doc.auth !== enforced) {
    throw new Error(`${doc.method.toUpperCase()} ${doc.path}: its RouteDoc says auth '${doc.auth}' but the guard (http/auth/access.ts) needs '${enforced}'`);
  }
  return enforced;
}

function response(status: number, r: ResponseDoc, convert: (s: z.ZodType, io: 'input' | 'output') => Json): Json {
  const contentType = r.contentType ?? 'application/json';
  const content: Json = {};
  content[contentType] = r.schema === undefined ? {} : { schema: convert(r.schema, 'output') };
  for (const alt of r.alsoAs ?? []) content[alt] = { schema: { type: 'string' } };
  return {
    description: r.description,
    ...(status === 503 || status === 429 ? { headers: RETRY_AFTER } : {}),
    content,
  };
}

/** One OpenAPI parameter per property of an object schema. */
function parametersOf(schema: Json, where: 'path' | 'query', doc: RouteDoc): Json[] {
  if (schema['type'] !== 'object' || typeof schema['properties'] !== 'object' || schema['properties'] === null) {
    throw new Error(`${doc.method.toUpperCase()} ${doc.path}: the ${where} schema must be an object schema`);
  }
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  return Object.entries(schema['properties'] as Record<string, Json>).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

function operationId(doc: RouteDoc): string {
  const words = doc.path.split('/').filter((s) => s !== '').map((s) => (s.startsWith(':') ? `by-${s.slice(1)}` : s));
  return [doc.method, ...words].join('-').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase());
}

function toJson(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    metadata: componentRegistry,
    // A transform has no JSON Schema; in output mode the schema documents what it yields.
    unrepresentable: 'any',
    override: (ctx) => {
      // The registry's `id` names the component; it is not a keyword of the schema itself.
      delete (ctx.jsonSchema as Json)['id'];
    },
  }) as Json;
  return json;
}

/**
 * Move a converted schema's `$defs` into the components (each name once, with one meaning)
 * and point its `$ref`s there.
 */
function hoist(json: Json, components: Record<string, Json>): Json {
  const defs = (json['$defs'] ?? {}) as Record<string, Json>;
  delete json['$defs'];
  const rewritten = rewriteRefs(json) as Json;
  for (const [name, def] of Object.entries(defs)) {
    const value = rewriteRefs(def) as Json;
    const known = components[name];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(value)) {
      throw new Error(`component ${name} has two different schemas (an input and an output form?); give them different ids`);
    }
    components[name] = value;
  }
  return rewritten;
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v === null || typeof v !== 'object') return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v as Json)) {
    out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#/$defs/') ? `${REF_PREFIX}${x.slice('#/$defs/'.length)}` : rewriteRefs(x);
  }
  return out;
}
