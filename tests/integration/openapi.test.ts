/**
 * The OpenAPI document (src/http/openapi.ts): every route of every function is described and in
 * the document, a real OpenAPI 3.1 validator accepts it, every schema in it compiles as JSON Schema
 * 2020-12, each function serves its own document, the gateway serves the merged one and the
 * reference page, and the response check that every HTTP test runs (tests/helpers/openapi-check.ts)
 * refuses answers that contradict the document.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FUNCTIONS } from '../../src/app/functions.ts';
import { createFunctionApp } from '../../src/http/app.ts';
import type { AppEnv } from '../../src/http/context.ts';
import { buildDocument, describe as describeRoute, openApiPath, servedRoutes, type OpenApiDocument } from '../../src/http/openapi.ts';
import { createTestEnv, type TestEnv } from '../helpers/env.ts';
import { createResponseChecker } from '../helpers/openapi-check.ts';
import { API_TYPES_FILE, apiTypes } from '../../scripts/gen-api.ts';

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (opts: object) => {
  compile(schema: object): unknown;
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: object) => void;

let env: TestEnv;
let doc: OpenApiDocument;
beforeAll(async () => {
  env = await createTestEnv();
  const res = await env.request('GET', '/openapi.json');
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});
afterAll(async () => env?.close());

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

describe('OpenAPI document', () => {
  it('describes every route every function serves, and nothing else', () => {
    const served = new Set<string>();
    const undescribed: string[] = [];
    for (const spec of FUNCTIONS) {
      for (const r of servedRoutes(createFunctionApp(spec, env.deps))) {
        if (!r.doc) undescribed.push(`${spec.name} ${r.method} ${r.path}`);
        const path = `/${spec.name}${openApiPath(r.path).replace(/\/$/, '')}`;
        served.add(`${r.method.toLowerCase()} ${path}`);
      }
    }
    expect(undescribed).toEqual([]);
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.has(m)).map((m) => `${m} ${path}`));
    expect(documented.filter((op) => !served.has(op))).toEqual([]);
    expect([...served].filter((op) => !documented.includes(op))).toEqual([]);
  });

  it('is valid OpenAPI 3.1 for a real validator', async () => {
    const result = await new Validator().validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('holds only schemas that compile as JSON Schema 2020-12, with unique operation ids', () => {
    const ajv = new Ajv2020({ strict: false, validateSchema: true });
    addFormats(ajv);
    const ids = new Set<string>();
    const compile = (where: string, schema: object) => {
      expect(() => ajv.compile({ ...schema, components: { schemas: doc.components.schemas } }), where).not.toThrow();
    };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as Array<[string, Record<string, any>]>) {
        expect(ids.has(op.operationId), `${method} ${path}: duplicate ${op.operationId}`).toBe(false);
        ids.add(op.operationId);
        for (const p of op.parameters ?? []) compile(`${method} ${path} ${p.name}`, p.schema);
        for (const [type, m] of Object.entries(op.requestBody?.content ?? {}) as Array<[string, { schema?: object }]>) if (m.schema) compile(`${method} ${path} body ${type}`, m.schema);
        for (const [status, r] of Object.entries(op.responses) as Array<[string, { content?: Record<string, { schema?: object }> }]>) {
          for (const [type, m] of Object.entries(r.content ?? {})) if (m.schema) compile(`${method} ${path} ${status} ${type}`, m.schema);
        }
      }
    }
    expect(ids.size).toBeGreaterThan(100);
  });

  it('declares who may call each route: the health and documents are public, the rest need credentials', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item) as Array<[string, { security: unknown[] }]>) {
        const isPublic = /\/(health|openapi\.json)$/.test(path);
        if (isPublic) expect(op.security, `${method} ${path}`).toEqual([]);
      }
    }
    expect(doc.paths['/metrics/query']!.post!.security).toEqual([{ userJwt: [] }, { apiKey: ['read'] }]);
  });

  it('is served by every function, without credentials, with paths relative to the function', async () => {
    for (const spec of FUNCTIONS) {
      const res = await env.request('GET', `/functions/v1/${spec.name}/openapi.json`);
      expect(res.status, spec.name).toBe(200);
      const own = (await res.json()) as OpenApiDocument;
      expect(own.servers).toEqual([{ url: `/functions/v1/${spec.name}` }]);
      const merged = Object.keys(doc.paths).filter((p) => p === `/${spec.name}` || p.startsWith(`/${spec.name}/`));
      expect(Object.keys(own.paths).map((p) => `/${spec.name}${p === '/' ? '' : p}`).sort(), spec.name).toEqual(merged.sort());
    }
  });

  it("the SDK's committed types are what `npm run gen:api` makes of this document", async () => {
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    expect(await apiTypes(doc), 'packages/sdk/src/api-types.ts is stale: run npm run gen:api').toBe(committed);
  });

  it('the gateway renders the API reference from the document', async () => {
    const res = await env.request('GET', '/reference');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    for (const item of Object.values(doc.paths)) for (const op of Object.values(item) as Array<{ operationId: string }>) expect(html).toContain(`id="${op.operationId}"`);
    expect(html).toContain('id="schema-Error"');
    // Self-contained: nothing loaded from elsewhere.
    expect(html).not.toMatch(/<script|<link|https?:\/\/(?!json-schema\.org)/);
  });
});

describe('response check', () => {
  const Thing = z.object({ id: z.string(), n: z.number().int() });
  // A function with one described route, mounted as the gateway mounts functions.
  const fn = new Hono<AppEnv>();
  fn.get('/thing/:id', describeRoute({ summary: 'a thing', auth: [], responses: { 200: Thing, 204: null } }), (c) => {
    const kind = c.req.param('id');
    if (kind === 'extra') return c.json({ id: 'a', n: 1, secret: 'x' });
    if (kind === 'wrong') return c.json({ id: 'a', n: 1.5 });
    if (kind === 'created') return c.json({ id: 'a', n: 1 }, 201);
    if (kind === 'text') return c.text('hello');
    if (kind === 'error') return c.json({ oops: true }, 400);
    if (kind === 'empty') return c.body(null, 204);
    return c.json({ id: kind, n: 1 });
  });
  const gateway = new Hono<AppEnv>();
  gateway.route('/functions/v1/t', fn);
  const checker = createResponseChecker(gateway, buildDocument([{ name: 't', prefix: '/t', app: fn }], { title: 't', version: '0', server: '/functions/v1' }));
  const call = async (id: string) => {
    const url = `/functions/v1/t/thing/${id}`;
    return checker.check('GET', url, await gateway.request(url));
  };

  it.each([
    ['extra', /must NOT have additional properties/],
    ['wrong', /must be integer/],
    ['created', /answered 201, a status its route/],
    ['text', /as text\/plain, the route declares application\/json/],
    ['error', /must have required property 'error'/],
  ])('refuses an answer that contradicts the document (%s)', async (id, message) => {
    await expect(call(id)).rejects.toThrow(message);
  });

  it('accepts answers that match, and skips routes it does not know', async () => {
    await expect(call('ok')).resolves.toBeUndefined();
    await expect(call('empty')).resolves.toBeUndefined();
    await expect(checker.check('GET', '/functions/v1/t/nowhere', new Response('x'))).resolves.toBeUndefined();
  });
});
