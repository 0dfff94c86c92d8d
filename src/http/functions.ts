import type { Context, Hono } from 'hono';
import { detectAnomalies } from '../anomalies/detect-anomalies.ts';
import { anomaliesRoutes } from '../anomalies/http/routes.ts';
import { apiKeysRoutes } from '../api-keys/http/routes.ts';
import type { Deps } from '../core/deps.ts';
import { exportTelemetry } from '../exports/export-telemetry.ts';
import { logsRoutes } from '../logs/http/routes.ts';
import { ingestErrorResponse, ingestRoutes } from '../ingest/http/routes.ts';
import { INGEST_LIMITS } from '../ingest/limits.ts';
import { cronRoutes } from '../jobs/http/routes.ts';
import { aggregateMetrics } from '../metrics/aggregate-metrics.ts';
import { metricsRoutes } from '../metrics/http/routes.ts';
import { orgsRoutes } from '../orgs/http/routes.ts';
import { cleanupRetention } from '../retention/cleanup-retention.ts';
import type { AppEnv } from './context.ts';

/**
 * Every edge function, by name. A function whose capability has not landed yet has no routes: it
 * answers health, and every other route answers 501 naming what is missing, never fake data.
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

export const FUNCTIONS: readonly FunctionSpec[] = [
  { name: 'ingest', routes: ingestRoutes, maxBodyBytes: INGEST_LIMITS.maxBodyBytes, errorResponse: ingestErrorResponse, confirmsApiKeysAtWrite: true },
  { name: 'metrics', routes: metricsRoutes },
  { name: 'logs', routes: logsRoutes },
  { name: 'alerts', pending: 'Alert rules and notifications' },
  { name: 'anomalies', routes: anomaliesRoutes },
  { name: 'webhooks', pending: 'Outgoing webhook endpoints and deliveries' },
  { name: 'api-keys', routes: apiKeysRoutes },
  { name: 'orgs', routes: orgsRoutes },
  { name: 'cron-aggregate-metrics', routes: cronRoutes(aggregateMetrics) },
  { name: 'cron-detect-anomalies', routes: cronRoutes(detectAnomalies) },
  { name: 'cron-cleanup-retention', routes: cronRoutes(cleanupRetention) },
  { name: 'cron-export-telemetry', routes: cronRoutes(exportTelemetry) },
];

export function findFunction(name: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`unknown function ${name}`);
  return spec;
}
