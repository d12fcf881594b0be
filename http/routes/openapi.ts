// GET /openapi.json: the API description, generated from the routes' RouteDocs
// (../openapi/document.ts). Rule: the route serves the document it is handed and builds
// nothing itself, so the app decides once which routes the document describes.
import { Hono } from 'hono';
import { z } from 'zod';
import type { EdgeEnv } from '../env.ts';
import type { OpenApiDocument } from '../openapi/document.ts';
import type { RouteDoc } from '../openapi/route-doc.ts';

const openApiDocumentSchema = z.looseObject({
  openapi: z.literal('3.1.0'),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.looseObject({ summary: z.string(), responses: z.record(z.string(), z.unknown()) }))),
  components: z.looseObject({ schemas: z.record(z.string(), z.unknown()), securitySchemes: z.record(z.string(), z.unknown()) }),
});

/** How the document route describes itself. */
export const openApiDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document: OpenAPI 3.1, generated from the zod schemas of every route',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1', schema: openApiDocumentSchema } },
  },
];

/**
 * The route that serves the OpenAPI document.
 *
 * @example
 * app.route('/', openApiRoutes(openApiDocument()));
 */
export function openApiRoutes(document: OpenApiDocument): Hono<EdgeEnv> {
  const app = new Hono<EdgeEnv>();
  app.get('/openapi.json', (c) => c.json(document));
  return app;
}
