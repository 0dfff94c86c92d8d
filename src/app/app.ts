import type { Hono } from 'hono';
import type { Deps } from '../core/deps.ts';
import { createFunctionApp, withCommonMiddleware } from '../http/app.ts';
import type { AppEnv } from '../http/context.ts';
import type { FunctionSpec } from '../http/function-spec.ts';
import { FUNCTIONS } from './functions.ts';

/** The Node gateway: every function at /functions/v1/<name>, as `supabase start` serves them. */
export function createGatewayApp(deps: Deps): Hono<AppEnv> {
  const app = withCommonMiddleware(deps);
  for (const spec of FUNCTIONS) app.route(`/functions/v1/${spec.name}`, createFunctionApp(spec, deps));
  return app;
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
