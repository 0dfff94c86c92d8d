import { Hono } from 'hono';
import { z } from 'zod';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { identify } from '../auth/authenticate.ts';
import { AppError } from '../core/errors.ts';
import type { Deps } from '../core/deps.ts';
import { VERSION } from '../core/version.ts';
import type { AppEnv } from './context.ts';
import { errorResponse } from './errors.ts';
import type { FunctionSpec } from './function-spec.ts';
import { identityMiddleware, requestLog } from './middleware.ts';
import { buildDocument, describe, type OpenApiDocument } from './openapi.ts';

/** What /health answers: the status alone, or (to the service role) the state of each dependency. */
const Health = z.object({
  status: z.enum(['ok', 'degraded', 'unavailable']),
  function: z.string().optional(),
  implemented: z.boolean().optional(),
  mode: z.enum(['embedded', 'local', 'supabase']).optional(),
  version: z.string().optional(),
  time: z.iso.datetime().optional(),
  checks: z.object({ database: z.enum(['ok', 'unavailable']), cache: z.enum(['ok', 'degraded']) }).optional(),
});

/** An OpenAPI 3.1 document (src/http/openapi.ts); described loosely here, it is checked by a real validator in the tests. */
const OpenApiJson = z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) });

/** Management requests are small; a function may set its own limit (ingest). */
const MAX_BODY_BYTES = 1024 * 1024;

/** One function: health first (no credentials needed), then identity, then its routes. */
export function createFunctionApp(spec: FunctionSpec, deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const respond = spec.errorResponse;
  if (respond) {
    // Errors are turned into the standard envelope where they are thrown; a protocol that needs its
    // own format re-renders them here, whichever middleware or route raised them.
    app.use('*', async (c, next) => {
      await next();
      if (c.error) {
        const res = respond(c, c.error);
        if (res) c.res = res;
      }
    });
  }
  // Load balancers and uptime checks get the status alone. Mode, version and the state of each
  // dependency help an attacker more than an anonymous caller, so only the service role sees them.
  app.get(
    '/health',
    describe({
      summary: 'Health of the function and its dependencies',
      description: 'Anyone gets the status; the service role also gets mode, version and the state of each dependency.',
      tags: ['health'],
      auth: [],
      responses: { 200: Health, 503: Health },
    }),
    async (c) => {
      const checks = { database: 'ok', cache: 'ok' } as Record<string, string>;
      await deps.db.query('select 1').catch(() => (checks.database = 'unavailable'));
      await deps.cache.ping().catch(() => (checks.cache = 'degraded'));
      const healthy = checks.database === 'ok';
      const status = healthy ? (checks.cache === 'ok' ? 'ok' : 'degraded') : 'unavailable';
      const caller = await identify(deps.auth, c.req.raw.headers).catch(() => undefined);
      if (caller?.kind !== 'service') return c.json({ status: healthy ? 'ok' : 'unavailable' }, healthy ? 200 : 503);
      return c.json(
        {
          status,
          function: spec.name,
          implemented: !!spec.routes,
          mode: deps.config.mode,
          version: VERSION,
          time: deps.clock.now().toISOString(),
          checks,
        },
        healthy ? 200 : 503,
      );
    },
  );
  // The function's own OpenAPI document: it describes routes, never tenant data, so anyone may read it.
  let document: OpenApiDocument | undefined;
  app.get(
    '/openapi.json',
    describe({ summary: "This function's OpenAPI 3.1 document", tags: ['health'], auth: [], responses: { 200: OpenApiJson } }),
    (c) => c.json((document ??= functionDocument(spec.name, app))),
  );
  const maxSize = spec.maxBodyBytes ?? MAX_BODY_BYTES;
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: () => {
        throw new AppError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxSize} bytes`);
      },
    }),
  );
  app.use('*', identityMiddleware(deps, { confirmAtWrite: spec.confirmsApiKeysAtWrite }));
  if (spec.routes) {
    app.route('/', spec.routes(deps));
  } else {
    app.all('*', () => {
      throw new AppError('NOT_IMPLEMENTED', `${spec.pending ?? spec.name} is not built yet; only GET /health answers here`);
    });
  }
  return app;
}

/** One function's document: its paths relative to the function, served from /functions/v1/<name>. */
export function functionDocument(name: string, app: Hono<AppEnv>): OpenApiDocument {
  return buildDocument([{ name, prefix: '', app }], { title: `ObservAI Hub: ${name}`, version: VERSION, server: `/functions/v1/${name}` });
}

/** What every served app has around its functions: request log, CORS, the error envelope, 404s. */
export function withCommonMiddleware(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestLog(deps));
  app.use(
    '*',
    cors({
      origin: deps.config.corsOrigins,
      allowHeaders: ['authorization', 'x-api-key', 'apikey', 'content-type', 'content-encoding', 'x-client-info', 'x-request-id'],
      allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'],
      maxAge: 600,
    }),
  );
  app.onError((err, c) => errorResponse(c, err));
  app.notFound((c) => errorResponse(c, new AppError('NOT_FOUND', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  return app;
}
