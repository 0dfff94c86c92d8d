import { type Context, Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { invalid, parseParams, parseQuery } from '../../http/validate.ts';
import { parseLogQuery } from '../../log-view/query.ts';
import { getTrace } from '../get-trace.ts';
import { listTraceLogs } from '../list-trace-logs.ts';
import { type AttributeFilter, GetTraceQuery, SearchTracesQuery, TRACE_LIMITS, ServiceStatsQuery, TraceLogsQuery, TraceParams } from '../schemas.ts';
import { searchTraces } from '../search-traces.ts';
import { getServiceStats } from '../service-stats.ts';

/** Trace search takes the log search's attribute syntax: `attr.<key>=<value>` and `has=<key>,...`. */
function parseSearchQuery(c: Context): SearchTracesQuery {
  const { params, attributes } = parseLogQuery(c.req.query() as Record<string, string>, SearchTracesQuery);
  const attr: AttributeFilter[] = [...attributes, ...(params.has ?? []).map((key) => ({ key, value: undefined }))];
  if (attr.length > TRACE_LIMITS.maxAttributeFilters) throw invalid('query.attr', `at most ${TRACE_LIMITS.maxAttributeFilters} attribute conditions`);
  return { ...params, attr };
}

/** Traces: a trace by id as a span tree, trace search, per-service span statistics (mounted at /logs/traces). */
export function traceRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    return c.json(await searchTraces(deps, claims, keyProjectId, parseSearchQuery(c)));
  });

  // Before /:traceId, which would otherwise take "services" for a trace id.
  app.get('/services', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const query = parseQuery(c, ServiceStatsQuery);
    const { rows, ...stats } = await getServiceStats(deps, claims, keyProjectId, query);
    return c.json(query.service === undefined ? { ...stats, services: rows } : { ...stats, service: query.service, operations: rows });
  });

  app.get('/:traceId', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { traceId } = parseParams(c, TraceParams);
    return c.json(await getTrace(deps, claims, keyProjectId, traceId, parseQuery(c, GetTraceQuery)));
  });

  app.get('/:traceId/logs', async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { traceId } = parseParams(c, TraceParams);
    return c.json(await listTraceLogs(deps, claims, keyProjectId, traceId, parseQuery(c, TraceLogsQuery)));
  });

  return app;
}
