import { Hono } from 'hono';
import { alertsRoutes } from '../alerts/http/routes.ts';
import { anomaliesRoutes } from '../anomalies/http/routes.ts';
import { apiKeysRoutes } from '../api-keys/http/routes.ts';
import { billingRoutes } from '../billing/http/routes.ts';
import type { Deps } from '../core/deps.ts';
import { dashboardRoutes } from '../dashboards/http/routes.ts';
import { exportRoutes } from '../exports/http/routes.ts';
import type { AppEnv } from '../http/context.ts';
import type { FunctionSpec } from '../http/function-spec.ts';
import { ingestErrorResponse, ingestRoutes } from '../ingest/http/routes.ts';
import { INGEST_LIMITS } from '../ingest/limits.ts';
import { cronRoutes } from '../jobs/http/routes.ts';
import { logsRoutes } from '../logs/http/routes.ts';
import { metricsRoutes } from '../metrics/http/routes.ts';
import { oncallRoutes } from '../oncall/http/routes.ts';
import { PD_MAX_EVENT_BYTES } from '../oncall/pagerduty-events.ts';
import { orgsRoutes } from '../orgs/http/routes.ts';
import { logRetentionRoutes } from '../retention/http/routes.ts';
import { traceRoutes } from '../traces/http/routes.ts';
import { webhooksRoutes } from '../webhooks/http/routes.ts';
import { EDGE_JOBS } from './jobs.ts';

export type { FunctionSpec };

/**
 * The logs function serves four domains: log search and tail, traces, retention settings and
 * exports. Each keeps its own routes; they meet here. The sub-apps go first so that their paths are
 * not read as a log id (`GET /logs/:id`).
 */
function logsFunctionRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/traces', traceRoutes(deps));
  app.route('/retention', logRetentionRoutes(deps));
  app.route('/exports', exportRoutes(deps));
  app.route('/', logsRoutes(deps));
  return app;
}

/**
 * The metrics function serves saved dashboards too (the panels they draw are mostly metrics), at
 * /metrics/dashboards: mounted first, so no metrics route reads its paths.
 */
function metricsFunctionRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.route('/dashboards', dashboardRoutes(deps));
  app.route('/', metricsRoutes(deps));
  return app;
}

/** Every edge function, by name: the one place that knows every domain's routes. */
export const FUNCTIONS: readonly FunctionSpec[] = [
  { name: 'ingest', routes: ingestRoutes, maxBodyBytes: INGEST_LIMITS.maxBodyBytes, errorResponse: ingestErrorResponse, confirmsApiKeysAtWrite: true },
  { name: 'metrics', routes: metricsFunctionRoutes },
  { name: 'logs', routes: logsFunctionRoutes },
  { name: 'alerts', routes: alertsRoutes },
  { name: 'anomalies', routes: anomaliesRoutes },
  { name: 'webhooks', routes: webhooksRoutes },
  // PagerDuty caps an Events v2 event at 512 KB; nothing else the function takes comes near it.
  { name: 'oncall', routes: oncallRoutes, maxBodyBytes: PD_MAX_EVENT_BYTES },
  { name: 'api-keys', routes: apiKeysRoutes },
  { name: 'orgs', routes: orgsRoutes },
  { name: 'billing', routes: billingRoutes },
  ...EDGE_JOBS.map((job): FunctionSpec => ({ name: `cron-${job.name}`, routes: cronRoutes(job) })),
];

export function findFunction(name: string): FunctionSpec {
  const spec = FUNCTIONS.find((f) => f.name === name);
  if (!spec) throw new Error(`unknown function ${name}`);
  return spec;
}
