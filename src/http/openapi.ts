/**
 * OpenAPI 3.1 from the zod schemas the routes validate with: one source of truth, no hand-kept copy.
 *
 * How to describe a route (the whole usage):
 *
 *   import { describe } from '../../http/openapi.ts';
 *   app.get(
 *     '/rules/:id',
 *     describe({
 *       summary: 'Get one alert rule',
 *       auth: ['user', 'apiKey'], scope: 'read',       // who may call it; [] = public
 *       params: RuleParams,                            // the same zod objects the handler parses with
 *       query: RuleQuery,
 *       responses: { 200: RuleResponse },              // status -> zod schema of the JSON body
 *     }),
 *     async (c) => { ...parseParams(c, RuleParams)...; return c.json(view(rule)); },
 *   );
 *
 * - `body: Schema` is a JSON body; `body: { content: { 'application/x-ndjson': undefined } }` for
 *   others. `responses[status]` is a zod schema (JSON), `null` (no body, e.g. 204), or
 *   `{ description, content: { 'text/event-stream': undefined, 'text/csv': undefined } }`.
 * - Errors need nothing: every operation gets `default` = the error envelope (src/http/errors.ts).
 *   Declare a 4xx/5xx (or `default`) only when the route answers something else (OTLP's
 *   google.rpc.Status).
 * - Response schemas are plain JSON shapes (no transforms, no z.date()); write them with
 *   z.object: the document says `additionalProperties: false` for responses, and the HTTP tests
 *   (tests/helpers/env.ts) validate every JSON answer of a described route against the document,
 *   so an undeclared field or status fails the test that provoked it. Put them in the domain's
 *   responses.ts (src/metrics/responses.ts is the model). `.meta({ id: 'AlertRule' })` makes a
 *   schema a shared component (#/components/schemas/AlertRule); ids must be unique across the API.
 *   A status that answers either a body or the error envelope: `z.union([Body, ErrorEnvelope])`.
 * - tags default to the function's name; summary is required, description optional (Markdown).
 * - auth: 'user' = a user's JWT, 'apiKey' = a project API key (with `scope`), 'service' = the
 *   service-role JWT; say what the handler's authorize()/actorClaims()/readerClaims() accepts.
 * - tests/integration/openapi.test.ts fails for any route without describe(); the check of answers
 *   lives in tests/helpers/openapi-check.ts (used by env.request()). The merged document is
 *   GET /openapi.json on the gateway, each function's GET /functions/v1/<name>/openapi.json.
 * - The SDK's typed client is generated from the document: after changing a route or a schema run
 *   `npm run gen:api` (the openapi test fails while packages/sdk/src/api-types.ts is stale).
 *
 * At run time describe() only calls next(); the generator reads the metadata from the middleware
 * in the Hono app's route table (app.routes), so the document lists exactly the routes served.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ERROR_STATUS } from '../core/errors.ts';
import type { AppEnv } from './context.ts';

export type Caller = 'user' | 'apiKey' | 'service';

export interface ResponseDoc {
  description?: string;
  /** Media type -> schema of the body (undefined: not JSON-described, e.g. a stream or CSV). */
  content?: Record<string, z.ZodType | undefined>;
  headers?: Record<string, string>;
}

export interface RequestBodyDoc {
  description?: string;
  required?: boolean;
  content: Record<string, z.ZodType | undefined>;
}

export interface RouteDoc {
  summary: string;
  description?: string;
  tags?: string[];
  /** Who may call it; [] for a public route. */
  auth: readonly Caller[];
  /** The API key scope the route demands of a key. */
  scope?: 'ingest' | 'read' | 'admin';
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType | RequestBodyDoc;
  /** By status; `default` replaces the error envelope for a protocol with its own errors (OTLP). */
  responses: { [status: number]: z.ZodType | ResponseDoc | null; default?: ResponseDoc };
  deprecated?: boolean;
}

const ROUTE_DOC = Symbol.for('observai.openapi.route');

type Described = MiddlewareHandler<AppEnv> & { [ROUTE_DOC]: RouteDoc };

/** The route's description, carried by a middleware that does nothing but call next(). */
export function describe(doc: RouteDoc): MiddlewareHandler<AppEnv> {
  const mw = (async (_c, next) => {
    await next();
  }) as Described;
  mw[ROUTE_DOC] = doc;
  return mw;
}

export function routeDoc(handler: unknown): RouteDoc | undefined {
  return typeof handler === 'function' ? (handler as Partial<Described>)[ROUTE_DOC] : undefined;
}

/** The single error envelope every 4xx/5xx answers with (src/http/errors.ts). */
export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]),
      message: z.string(),
      requestId: z.string().optional(),
      details: z.array(z.object({ field: z.string().optional(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error', description: 'The error envelope: every error answer has this shape.' });

/** One route as Hono serves it: method, Hono path (`/logs/:id`) and its description, if any. */
export interface ServedRoute {
  method: string;
  path: string;
  doc: RouteDoc | undefined;
}

/**
 * The routes of an app in registration order (the order Hono tries them), one per method and path.
 * Middleware registered with app.use (method ALL) is not a route.
 */
export function servedRoutes(app: Hono<AppEnv>): ServedRoute[] {
  const byKey = new Map<string, ServedRoute>();
  for (const r of app.routes) {
    const key = `${r.method} ${r.path}`;
    let route = byKey.get(key);
    if (!route) byKey.set(key, (route = { method: r.method, path: r.path, doc: undefined }));
    route.doc ??= routeDoc(r.handler);
  }
  // app.use middleware is stored with method ALL, as is app.all; none of ours serves a route with
  // app.all, so an ALL entry counts only when it is described.
  return [...byKey.values()].filter((r) => r.method !== 'ALL' || r.doc !== undefined);
}

/** `/logs/:id` -> `/logs/{id}` (OpenAPI's template syntax). */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, '{$1}');
}

/** A matcher for a Hono path, for finding which route answered a request (tests). */
export function pathMatcher(honoPath: string): RegExp {
  const parts = honoPath.split('/').map((seg) => {
    if (seg === '*') return '.*';
    if (seg.startsWith(':')) return '[^/]+';
    return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${parts.join('/')}/?$`);
}

// ---------------------------------------------------------------------------------------------
// The document

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  openapi: string;
  info: Json;
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Json };
}

const SECURITY_SCHEMES = {
  userJwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "A Supabase user's access token (role authenticated): RLS scopes every read and write to the user's organizations.",
  },
  serviceJwt: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A service-role JWT (the operator, pg_cron). Never give it to a browser.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'A project API key (`oai_...`); `Authorization: Bearer oai_...` works too. Scoped ingest / read / admin.',
  },
} as const;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Converts zod schemas to JSON Schema 2020-12, collecting schemas with a meta id as components.
 * Requests are described as sent (io 'input': before transforms and defaults), responses as
 * produced (io 'output').
 */
class SchemaBook {
  readonly components: Record<string, Json> = {};
  private readonly sources = new Map<string, string>();

  convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as Json;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    const rewritten = rewriteRefs(json) as Json;
    for (const [id, def] of Object.entries(defs)) {
      // The same id may be met as input and as output; when the two differ, the input gets its own name.
      const body = rewriteRefs(def) as Json;
      const text = JSON.stringify(body);
      const seen = this.sources.get(id);
      if (seen === undefined) {
        this.sources.set(id, text);
        this.components[id] = body;
      } else if (seen !== text) {
        const alt = `${id}Input`;
        const altSeen = this.sources.get(alt);
        if (io === 'input' && (altSeen === undefined || altSeen === text)) {
          this.sources.set(alt, text);
          this.components[alt] = body;
          return renameRef(rewritten, id, alt) as Json;
        }
        throw new Error(`Two different schemas carry the OpenAPI id ${id}; ids must be unique`);
      }
    }
    return rewritten;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

function renameRef(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameRef(v, from, to));
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === '$ref' && v === `#/components/schemas/${from}` ? `#/components/schemas/${to}` : renameRef(v, from, to);
    }
    return out;
  }
  return value;
}

/** Query and path objects become one parameter per property. */
function parameters(book: SchemaBook, where: 'query' | 'path', schema: z.ZodType | undefined, names: string[]): Json[] {
  const out: Json[] = [];
  const seen = new Set<string>();
  if (schema) {
    const json = book.convert(schema, 'input');
    const props = (json.properties ?? {}) as Record<string, Json>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, s] of Object.entries(props)) {
      const { description, ...rest } = s;
      seen.add(name);
      out.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest,
      });
    }
  }
  // Every path template variable is a parameter, described or not (OpenAPI requires it).
  if (where === 'path') for (const n of names) if (!seen.has(n)) out.push({ name: n, in: 'path', required: true, schema: { type: 'string' } });
  return out;
}

function content(book: SchemaBook, media: Record<string, z.ZodType | undefined>, io: 'input' | 'output'): Json {
  const out: Json = {};
  for (const [type, schema] of Object.entries(media)) out[type] = schema ? { schema: book.convert(schema, io) } : {};
  return out;
}

const isZod = (v: unknown): v is z.ZodType => v instanceof z.ZodType;

function responseObject(book: SchemaBook, status: string, r: z.ZodType | ResponseDoc | null): Json {
  const fallback = status === 'default' ? 'An error (see the error envelope)' : defaultDescription(Number(status));
  if (r === null) return { description: fallback };
  if (isZod(r)) return { description: (r.description as string | undefined) ?? fallback, content: { 'application/json': { schema: book.convert(r, 'output') } } };
  return {
    description: r.description ?? fallback,
    ...(r.content ? { content: content(book, r.content, 'output') } : {}),
    ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
  };
}

function defaultDescription(status: number): string {
  return (
    { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content', 207: 'Partly done', 400: 'Bad request', 401: 'Unauthenticated', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Payload too large', 415: 'Unsupported media type', 429: 'Rate limited', 500: 'Internal error', 503: 'Unavailable' } as Record<number, string>
  )[status] ?? `Status ${status}`;
}

function security(doc: RouteDoc): Json[] {
  const out: Json[] = [];
  if (doc.auth.includes('user')) out.push({ userJwt: [] });
  if (doc.auth.includes('apiKey')) out.push({ apiKey: doc.scope ? [doc.scope] : [] });
  if (doc.auth.includes('service')) out.push({ serviceJwt: [] });
  return out;
}

function operationId(fn: string, method: string, path: string): string {
  const words = `${fn}/${path}`
    .replace(/[{}:]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  return [method.toLowerCase(), ...words].map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('');
}

export interface DocumentPart {
  /** The function's name (tags default to it). */
  name: string;
  /** Prefix for its paths in this document ('' for a function's own document, '/<name>' merged). */
  prefix: string;
  app: Hono<AppEnv>;
}

/** Builds the document for one or more function apps. Routes without describe() are left out (the coverage test names them). */
export function buildDocument(parts: DocumentPart[], info: { title: string; version: string; description?: string; server: string }): OpenApiDocument {
  const book = new SchemaBook();
  const paths: Record<string, Record<string, Json>> = {};
  const usedIds = new Set<string>();
  for (const part of parts) {
    for (const route of servedRoutes(part.app)) {
      if (!route.doc) continue;
      const doc = route.doc;
      const path = part.prefix + openApiPath(route.path === '/' ? '' : route.path.replace(/\/$/, '')) || '/';
      const names = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      const methods = route.method === 'ALL' ? METHODS.filter((m) => m !== 'options' && m !== 'head' && m !== 'trace') : [route.method.toLowerCase()];
      for (const method of methods) {
        let id = operationId(part.name, method, path.slice(part.prefix.length));
        while (usedIds.has(id)) id += '_';
        usedIds.add(id);
        const responses: Json = {};
        for (const [status, r] of Object.entries(doc.responses)) responses[status] = responseObject(book, status, r);
        responses.default ??= { description: 'An error: the error envelope', content: { 'application/json': { schema: book.convert(ErrorEnvelope, 'output') } } };
        const params = [...parameters(book, 'path', doc.params, names), ...parameters(book, 'query', doc.query, [])];
        const body = doc.body === undefined ? undefined : isZod(doc.body) ? { required: true, content: content(book, { 'application/json': doc.body }, 'input') } : { required: doc.body.required ?? true, ...(doc.body.description ? { description: doc.body.description } : {}), content: content(book, doc.body.content, 'input') };
        const op: Json = {
          operationId: id,
          summary: doc.summary,
          ...(doc.description ? { description: doc.description } : {}),
          tags: doc.tags ?? [part.name],
          security: security(doc),
          ...(params.length ? { parameters: params } : {}),
          ...(body ? { requestBody: body } : {}),
          responses,
          ...(doc.deprecated ? { deprecated: true } : {}),
        };
        (paths[path] ??= {})[method] = op;
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, ...(info.description ? { description: info.description } : {}) },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: info.server }],
    paths,
    components: { schemas: book.components, securitySchemes: SECURITY_SCHEMES },
  };
}
