import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { z } from 'zod';
import { eventSchema } from '../../actors/index.ts';
import { appWith, queriesMustNotBeCalled } from '../test-helpers.ts';
import { responseChecker } from './conformance.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './document.ts';
import { allRouteDocs } from './routes.ts';
import { isSegmentPath } from '../segment/paths.ts';

async function served(): Promise<OpenApiDocument> {
  return (await (await appWith().request('/openapi.json')).json()) as OpenApiDocument;
}

/** A validator of one component of the served document, refs resolved inside it. */
function componentValidator(doc: OpenApiDocument, name: string) {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'doc', components: doc.components } as Record<string, unknown>);
  const rewritten = JSON.parse(JSON.stringify(doc.components.schemas[name]).replaceAll('"#/components/', '"doc#/components/')) as Record<string, unknown>;
  return ajv.compile(rewritten);
}

const base = { id: 'e-1', type: 'page.view', source: 'web', occurredAt: '2026-11-20T12:00:00Z' };
const props = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
// The limits the hand-written document had wrong (gender minLength, amount bounds, property
// value length) and their neighbours, each just inside and just outside.
const probes: [string, unknown][] = [
  ['valid', base],
  ['epoch ms', { ...base, occurredAt: 1_763_640_000_000 }],
  ['gender empty', { ...base, user: { gender: '' } }],
  ['gender 32', { ...base, user: { gender: 'g'.repeat(32) } }],
  ['gender 33', { ...base, user: { gender: 'g'.repeat(33) } }],
  ['city 128', { ...base, user: { city: 'c'.repeat(128) } }],
  ['city 129', { ...base, user: { city: 'c'.repeat(129) } }],
  ['age 150', { ...base, user: { age: 150 } }],
  ['age 151', { ...base, user: { age: 151 } }],
  ['age 2.5', { ...base, user: { age: 2.5 } }],
  ['amount 1e12', { ...base, revenue: { amount: 1e12, currency: 'USD' } }],
  ['amount -1e12', { ...base, revenue: { amount: -1e12, currency: 'USD' } }],
  ['amount 1e12+1', { ...base, revenue: { amount: 1e12 + 1, currency: 'USD' } }],
  ['amount -1e12-1', { ...base, revenue: { amount: -1e12 - 1, currency: 'USD' } }],
  ['currency lower case', { ...base, revenue: { amount: 1, currency: 'usd' } }],
  ['property value 1024', { ...base, properties: { p: 'v'.repeat(1024) } }],
  ['property value 1025', { ...base, properties: { p: 'v'.repeat(1025) } }],
  ['property value empty', { ...base, properties: { p: '' } }],
  ['property key empty', { ...base, properties: { '': 1 } }],
  ['property key 65', { ...base, properties: { ['k'.repeat(65)]: 1 } }],
  ['property object value', { ...base, properties: { p: { nested: true } } }],
  ['64 properties', { ...base, properties: props(64) }],
  ['65 properties', { ...base, properties: props(65) }],
  ['id 128', { ...base, id: 'i'.repeat(128) }],
  ['id 129', { ...base, id: 'i'.repeat(129) }],
  ['type empty', { ...base, type: '' }],
  ['source 65', { ...base, source: 's'.repeat(65) }],
  ['funnelStage middle', { ...base, funnelStage: 'middle' }],
  ['unknown field', { ...base, extra: 1 }],
  ['unknown user field', { ...base, user: { shoe: 42 } }],
  ['no occurredAt', { id: 'e', type: 't', source: 's' }],
  ['negative epoch', { ...base, occurredAt: -1 }],
];

test('openapi - the published Event schema accepts exactly what the event schema accepts at every documented limit', async () => {
  const validate = componentValidator(await served(), 'Event');
  for (const [name, event] of probes) {
    assert.equal(validate(event), eventSchema.safeParse(event).success, name);
  }
});

test('openapi - every schema of the served document compiles under JSON Schema 2020-12 with its refs resolved', async () => {
  const doc = await served();
  assert.doesNotThrow(() => responseChecker(doc, { eager: true }));
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  assert.ok(refs.length > 0);
  for (const ref of new Set(refs)) {
    const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
    assert.ok(name !== undefined && doc.components.schemas[name] !== undefined, `${ref} points at a component of the document`);
  }
});

test('openapi - query and path parameters are the input form of the route schemas (string patterns included)', async () => {
  const doc = await served();
  const deadLetters = doc.paths['/v1/dead-letters']?.['get'] as { parameters: { name: string; in: string; required: boolean; schema: { pattern?: string } }[] };
  assert.deepEqual(deadLetters.parameters.map((p) => [p.name, p.in, p.required]), [['limit', 'query', false], ['cursor', 'query', false]]);
  const limit = new RegExp(deadLetters.parameters[0]?.schema.pattern ?? '^$');
  for (const [v, ok] of [['1', true], ['1000', true], ['0', false], ['1001', false], ['ten', false], ['010', false]] as const) {
    assert.equal(limit.test(v), ok, `limit=${v}`);
  }
  const byId = doc.paths['/v1/events/{id}']?.['get'] as { parameters: { name: string; in: string; required: boolean }[] };
  assert.deepEqual(byId.parameters.map((p) => [p.name, p.in, p.required]), [['id', 'path', true]]);
});

test("openapi - open routes carry no security requirement; Segment's routes a Basic write key; the others need bearer or X-API-Key, /internal the deployment token", async () => {
  const doc = await served();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const open = ['/healthz', '/readyz', '/metrics', '/openapi.json', '/', '/console/{file}'].includes(path);
      const expected = open ? [] : path.startsWith('/internal/') ? [{ internalToken: [] }] : isSegmentPath(path) ? [{ writeKey: [] }] : [{ bearer: [] }, { apiKey: [] }];
      assert.deepEqual(op['security'], expected, `${method} ${path}`);
    }
  }
});

test('openapi - every published scope is the one the guard enforces (one table: http/auth/access.ts)', async () => {
  const doc = await served();
  const keys = [
    { name: 'ingest', secret: 'ingest-only-key-000001', scopes: ['ingest' as const] },
    { name: 'read', secret: 'read-only-key-00000001', scopes: ['read' as const] },
    { name: 'admin', secret: 'admin-only-key-0000001', scopes: ['admin' as const] },
  ];
  const app = appWith({ options: { apiKeys: keys } });
  let checked = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const scope = op['x-keyflow-scope'] as string | undefined;
      const concrete = path.replace(/\{[^}]+\}/g, 'x');
      if (scope === undefined || scope === 'internal') continue;
      if (isSegmentPath(path)) {
        // A write key is the Basic user: only a key with the ingest scope (and no other) is taken.
        for (const k of keys) {
          const res = await app.request(concrete, { method: method.toUpperCase(), headers: { Authorization: `Basic ${Buffer.from(`${k.secret}:`).toString('base64')}`, 'Content-Type': 'application/json' }, body: '{"batch":[]}' });
          if (k.name === scope) assert.ok(res.status !== 401 && res.status !== 403, `${method} ${path} refuses a ${scope} write key: ${res.status}`);
          else assert.equal(res.status, 401, `${method} ${path} is published as ${scope} but a ${k.name} write key got ${res.status}`);
        }
        checked++;
        continue;
      }
      // Each key of another scope is refused with 403: the guard needs exactly the published scope.
      for (const k of keys) {
        const res = await app.request(concrete, { method: method.toUpperCase(), headers: { Authorization: `Bearer ${k.secret}` } });
        if (k.name === scope) assert.notEqual(res.status, 403, `${method} ${path} opens to a ${scope} key`);
        else assert.equal(res.status, 403, `${method} ${path} is published as ${scope} but a ${k.name} key got ${res.status}`);
      }
      checked++;
    }
  }
  assert.ok(checked >= 15, `${checked} operations checked`);
  assert.equal(doc.paths['/v1/dead-letters']?.['get']?.['x-keyflow-scope'], 'admin');
  assert.equal(doc.paths['/v1/erasures/{id}']?.['get']?.['x-keyflow-scope'], 'admin');
  assert.equal(doc.paths['/v1/users/{userId}']?.['delete']?.['x-keyflow-scope'], 'admin');
  assert.throws(
    () => buildOpenApiDocument([{ method: 'get', path: '/v1/dead-letters', summary: 'x', auth: 'read', responses: { 200: { description: 'x' } } }]),
    /says auth 'read' but the guard \(http\/auth\/access\.ts\) needs 'admin'/,
  );
});

test('openapi - two RouteDocs for one route, or two shapes under one component name, refuse to build', () => {
  const doc = allRouteDocs[0];
  assert.ok(doc);
  assert.throws(() => buildOpenApiDocument([doc, doc]), /two RouteDocs/);
  const a = z.object({ x: z.string() }).meta({ id: 'TwiceNamed' });
  const b = z.object({ y: z.number() }).meta({ id: 'TwiceNamed' });
  assert.throws(
    () => buildOpenApiDocument([
      { method: 'get', path: '/a', summary: 'a', responses: { 200: { description: 'a', schema: a } } },
      { method: 'get', path: '/b', summary: 'b', responses: { 200: { description: 'b', schema: b } } },
    ]),
    /TwiceNamed has two different schemas/,
  );
});

test('conformance - a wrong answer fails the check: missing or extra field, wrong type, undocumented status or content type', async () => {
  const checker = responseChecker(await served());
  const stored = { id: 'e-1', type: 't', source: 's', occurredAt: '2026-11-20T12:00:00.000Z', receivedAt: '2026-11-20T12:00:01.000Z' };
  const at = (status: number, body: unknown, contentType = 'application/json') =>
    checker.check({ method: 'GET', path: '/v1/events/e-1', status, contentType, body }).errors;
  assert.deepEqual(at(200, stored), []);
  const { receivedAt: _r, ...withoutReceivedAt } = stored;
  assert.match(at(200, withoutReceivedAt).join(), /receivedAt/);
  assert.match(at(200, { ...stored, secret: 1 }).join(), /additional/);
  assert.match(at(200, { ...stored, occurredAt: 1_763_640_000_000 }).join(), /occurredAt/);
  assert.match(at(200, { ...stored, revenue: { amount: '19.99', currency: 'USD' } }).join(), /revenue\/amount/);
  assert.match(at(200, stored, 'text/html').join(), /content type text\/html is not documented/);
  assert.match(at(404, { message: 'no' }).join(), /error/);
  assert.match(at(500, { error: { message: 'no code' } }).join(), /code/, 'an undocumented status must at least be the error body');
  assert.deepEqual(at(500, { error: { code: 'internal', message: 'internal server error' } }), []);
  assert.match(
    checker.check({ method: 'GET', path: '/v1/not-a-route', status: 200, contentType: 'application/json', body: {} }).errors.join(),
    /no such route/,
  );
});

test('conformance - an app whose answer breaks its published schema fails the request in tests', async () => {
  const app = appWith({
    queries: {
      ...queriesMustNotBeCalled,
      // A store that answers occurredAt as epoch milliseconds: the schema says RFC 3339.
      getEvent: () => Promise.resolve({ id: 'e-1', type: 't', source: 's', occurredAt: 1 as unknown as string, receivedAt: '2026-11-20T12:00:00.000Z' }),
    },
  });
  await assert.rejects(async () => app.request('/v1/events/e-1'), /does not match \/openapi\.json[\s\S]*occurredAt/);
});

test('conformance - HEAD is checked as its GET route without a body; an unknown method on a known path must be an error', async () => {
  const checker = responseChecker(await served());
  assert.deepEqual(checker.check({ method: 'HEAD', path: '/healthz', status: 200, contentType: 'application/json' }).errors, []);
  assert.match(checker.check({ method: 'PUT', path: '/healthz', status: 200, contentType: 'application/json', body: {} }).errors.join(), /no such route/);
  assert.deepEqual((await appWith().request('/healthz', { method: 'HEAD' })).status, 200);
});
