import type { Context, Hono } from 'hono';
import type { Deps } from '../core/deps.ts';
import type { AppEnv } from './context.ts';

/**
 * One edge function: its name, its routes, and how the plumbing serves it (src/http/app.ts). The
 * table of every function is the wiring's (src/app/functions.ts). A function whose capability has not
 * landed yet has no routes: it answers health, and every other route answers 501 naming what is
 * missing, never fake data.
 */
export interface FunctionSpec {
  name: string;
  routes?: (deps: Deps) => Hono<AppEnv>;
  /** For functions not built yet: what will live here. */
  pending?: string;
  /** Largest request body accepted as sent (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * A protocol's own error format for some of the function's paths (OTLP answers google.rpc.Status).
   * Gets every error raised while serving the function, from middleware (identity, body limit)
   * as well as routes; returning undefined keeps the standard envelope.
   */
  errorResponse?: (c: Context<AppEnv>, err: Error) => Response | undefined;
  /**
   * The function confirms an API key inside the transaction that writes for it (confirmApiKey), so
   * its identity may come from the process's cache of verified keys (ADR 0004). Only for a function
   * whose routes, for an API key, do nothing else with the database than read the key's project's
   * settings (ingest: rate limits and the series limit).
   */
  confirmsApiKeysAtWrite?: boolean;
}
