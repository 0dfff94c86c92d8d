import type { Hono } from 'hono';
import { createAuthStandinApp } from '../auth-standin/http/routes.ts';
import type { Deps } from '../core/deps.ts';
import { VERSION } from '../core/version.ts';
import { createFunctionApp, withCommonMiddleware } from '../http/app.ts';
import type { AppEnv } from '../http/context.ts';
import type { FunctionSpec } from '../http/function-spec.ts';
import { buildDocument, type OpenApiDocument } from '../http/openapi.ts';
import { renderReference } from '../http/openapi-reference.ts';
import { FUNCTIONS } from './functions.ts';

/**
 * The Node gateway: every function at /functions/v1/<name>, as `supabase start` serves them, plus
 * the merged OpenAPI document (/openapi.json) and the API reference rendered from it (/reference).
 * Both describe routes, never tenant data: no credentials needed. Given the local JWT secret (the
 * embedded and local modes), it also serves the development stand-in for Supabase Auth at /auth/v1
 * (src/auth-standin); on Supabase, Supabase Auth is the real one. Given `dashboard` (the Node
 * gateway's static files, src/node/dashboard.ts), the console is served at `/`.
 */
export function createGatewayApp(deps: Deps, opts: { authStandin?: { jwtSecret: string }; dashboard?: Hono<AppEnv> } = {}): Hono<AppEnv> {
  const app = withCommonMiddleware(deps);
  if (opts.authStandin && deps.config.mode !== 'supabase') app.route('/auth/v1', createAuthStandinApp(deps, opts.authStandin));
  const parts = FUNCTIONS.map((spec) => ({ name: spec.name, prefix: `/${spec.name}`, app: createFunctionApp(spec, deps) }));
  for (const part of parts) app.route(`/functions/v1/${part.name}`, part.app);
  let document: OpenApiDocument | undefined;
  const merged = () => (document ??= mergedDocument(parts));
  app.get('/openapi.json', (c) => c.json(merged()));
  app.get('/reference', (c) => c.html(renderReference(merged())));
  // Last: the dashboard's files answer every other GET (src/node/dashboard.ts).
  if (opts.dashboard) app.route('/', opts.dashboard);
  return app;
}

/** Every function in one document; paths are relative to /functions/v1. */
export function mergedDocument(parts: Array<{ name: string; prefix: string; app: Hono<AppEnv> }>): OpenApiDocument {
  return buildDocument(parts, {
    title: 'ObservAI Hub',
    version: VERSION,
    description: 'Every edge function of ObservAI Hub. Prose, limits and examples: docs/API.md.',
    server: '/functions/v1',
  });
}

/** The merged document without serving anything (scripts/gen-api.ts, tests): apps are built, never called. */
export function gatewayDocument(deps: Deps): OpenApiDocument {
  return mergedDocument(FUNCTIONS.map((spec) => ({ name: spec.name, prefix: `/${spec.name}`, app: createFunctionApp(spec, deps) })));
}

/**
 * One Deno edge function. Supabase's edge runtime hands the function `/<name>/...`; serving
 * `/functions/v1/<name>/...` too lets the same URLs work when the function runs on its own.
 */
export function createEdgeApp(spec: FunctionSpec, deps: Deps): Hono<AppEnv> {
  const app = withCommonMiddleware(deps);
  const fn = createFunctionApp(spec, deps);
  app.route(`/functions/v1/${spec.name}`, fn);
  app.route(`/${spec.name}`, fn);
  return app;
}
