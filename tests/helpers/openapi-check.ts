/**
 * Checks real answers against the OpenAPI document: every JSON answer of a described route must
 * match the schema the route declares for that status (errors: the error envelope), with the
 * media type it declares. A mismatch throws, naming method, path, status and the schema's
 * complaints, so every HTTP test doubles as a check that the document tells the truth.
 * Routes without describe() are skipped (tests/integration/openapi.test.ts demands them).
 */
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Hono } from 'hono';
import type { AppEnv } from '../../src/http/context.ts';
import { openApiPath, pathMatcher, servedRoutes, type OpenApiDocument } from '../../src/http/openapi.ts';

type Validate = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> | null };

// CommonJS packages: the class is the module itself or its default, depending on the loader.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (opts: object) => {
  compile(schema: object): Validate;
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: object) => void;

interface Op {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}

export interface ResponseChecker {
  /** Throws when `res` contradicts the document; reads a clone of the body (JSON answers only). */
  check(method: string, url: string, res: Response): Promise<void>;
}

/** `app` serves the functions under `base` (the gateway: /functions/v1); `doc` is the merged document. */
export function createResponseChecker(app: Hono<AppEnv>, doc: OpenApiDocument, base = '/functions/v1'): ResponseChecker {
  const routes = servedRoutes(app)
    .filter((r) => r.path.startsWith(`${base}/`))
    .map((r) => ({ ...r, re: pathMatcher(r.path), docPath: openApiPath(r.path.slice(base.length)).replace(/\/$/, '') || '/' }));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const compiled = new Map<string, Validate>();
  const validator = (key: string, schema: object) => {
    let v = compiled.get(key);
    // The schema's component references (#/components/schemas/X) resolve within this root.
    if (!v) compiled.set(key, (v = ajv.compile({ ...schema, components: { schemas: doc.components.schemas } })));
    return v;
  };

  return {
    async check(method, url, res) {
      const path = new URL(url, 'http://gateway').pathname;
      const m = method.toUpperCase();
      const route = routes.find((r) => (r.method === m || r.method === 'ALL' || (m === 'HEAD' && r.method === 'GET')) && r.re.test(path));
      if (!route?.doc || m === 'HEAD' || m === 'OPTIONS') return;
      const op = doc.paths[route.docPath]?.[m.toLowerCase()] as Op | undefined;
      if (!op) throw new Error(`OpenAPI: ${m} ${route.path} is described but missing from the document`);
      const status = String(res.status);
      const declared = op.responses[status] ?? (res.status >= 400 ? op.responses.default : undefined);
      const where = `${m} ${path} answered ${status}`;
      if (!declared) throw new Error(`OpenAPI: ${where}, a status its route (${route.path}) does not declare (declared: ${Object.keys(op.responses).join(', ')})`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const media = declared.content ?? {};
      if (Object.keys(media).length === 0) {
        if (res.body !== null && type !== '' && (await res.clone().arrayBuffer()).byteLength > 0) {
          throw new Error(`OpenAPI: ${where} with a ${type} body, but the route declares no body for ${status}`);
        }
        return;
      }
      if (!(type in media)) throw new Error(`OpenAPI: ${where} as ${type || 'no content type'}, the route declares ${Object.keys(media).join(', ')}`);
      const schema = media[type]!.schema;
      if (!schema || !/json$/.test(type)) return;
      const text = await res.clone().text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`OpenAPI: ${where} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      const validate = validator(`${route.docPath} ${m} ${status} ${type}`, schema);
      if (!validate(body)) {
        const issues = (validate.errors ?? []).slice(0, 10).map((e) => `  ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
        throw new Error(`OpenAPI: ${where} with a body that does not match the declared schema (${route.path}):\n${issues.join('\n')}\nbody: ${text.slice(0, 1500)}`);
      }
    },
  };
}
