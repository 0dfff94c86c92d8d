import { type Context, Hono } from 'hono';
import type { Deps } from '../../core/deps.ts';
import { meterQuery } from '../../billing/meter-query.ts';
import { readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { describe } from '../../http/openapi.ts';
import { invalid, parseParams, parseQuery } from '../../http/validate.ts';
import { parseLogQuery } from '../../log-view/query.ts';
import { getTrace } from '../get-trace.ts';
import { listTraceLogs } from '../list-trace-logs.ts';
import { type AttributeFilter, GetTraceQuery, SearchTracesQuery, TRACE_LIMITS, ServiceStatsQuery, TraceLogsQuery, TraceParams } from '../schemas.ts';
import { ServiceStatsResponse, TraceLogsResponse, TraceResponse, TraceSearchResponse } from '../responses.ts';
import { searchTraces } from '../search-traces.ts';
import { getServiceStats } from '../service-stats.ts';

/** Trace search takes the log search's attribute syntax: `attr.<key>=<value>` and `has=<key>,...`. */
function parseSearchQuery(c: Context): SearchTracesQuery {
  const { params, attributes } = parseLogQuery(c.req.query() as Record<string, string>, SearchTracesQuery);
  const attr: AttributeFilter[] = [...attributes, ...(params.has ?? []).map((key) => ({ key, value: undefined }))];
  if (attr.length > TRACE_LIMITS.maxAttributeFilters) throw invalid('query.attr', `at most ${TRACE_LIMITS.maxAttributeFilters} attribute conditions`);
  return { ...params, attr };
}

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;

/** Traces: a trace by id as a span tree, trace search, per-service span statistics (mounted at /logs/traces). */
export function traceRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', describe({ summary: 'Search traces by service, operation, duration, status and attributes', description: 'Attribute conditions: `attr.<key>=<value>` and `has=<key>,...`, besides the parameters listed.', ...READER, query: SearchTracesQuery, responses: { 200: TraceSearchResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const query = parseSearchQuery(c);
    const result = await searchTraces(deps, claims, keyProjectId, query);
    await meterQuery(deps, c, 'traces', query.projectId ?? keyProjectId, result.traces.length);
    return c.json(result);
  });

  // Before /:traceId, which would otherwise take "services" for a trace id.
  app.get('/services', describe({ summary: 'Span statistics per service, or per operation of one service', ...READER, query: ServiceStatsQuery, responses: { 200: ServiceStatsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const query = parseQuery(c, ServiceStatsQuery);
    const { rows, ...stats } = await getServiceStats(deps, claims, keyProjectId, query);
    await meterQuery(deps, c, 'traces', query.projectId ?? keyProjectId, rows.length);
    return c.json(query.service === undefined ? { ...stats, services: rows } : { ...stats, service: query.service, operations: rows });
  });

  app.get('/:traceId', describe({ summary: 'A trace as a span tree', ...READER, params: TraceParams, query: GetTraceQuery, responses: { 200: TraceResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { traceId } = parseParams(c, TraceParams);
    const query = parseQuery(c, GetTraceQuery);
    const trace = await getTrace(deps, claims, keyProjectId, traceId, query);
    await meterQuery(deps, c, 'traces', query.projectId ?? keyProjectId ?? trace.trace.projectIds[0], trace.trace.spanCount);
    return c.json(trace);
  });

  app.get('/:traceId/logs', describe({ summary: "A trace's log lines", ...READER, params: TraceParams, query: TraceLogsQuery, responses: { 200: TraceLogsResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { traceId } = parseParams(c, TraceParams);
    const query = parseQuery(c, TraceLogsQuery);
    const logs = await listTraceLogs(deps, claims, keyProjectId, traceId, query);
    await meterQuery(deps, c, 'traces', query.projectId ?? keyProjectId, logs.logs.length);
    return c.json(logs);
  });

  return app;
}
