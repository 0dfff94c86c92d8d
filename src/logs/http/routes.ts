import { type Context, Hono } from 'hono';
import { streamCredential } from '../../auth/stream-credential.ts';
import type { Deps } from '../../core/deps.ts';
import { meterQuery } from '../../billing/meter-query.ts';
import { readerClaims } from '../../http/actor.ts';
import type { AppEnv } from '../../http/context.ts';
import { respondWithStream, STREAM_TIMING } from '../../http/sse-stream.ts';
import { acceptStreamToken, describeStreamToken, mintStreamToken } from '../../http/stream-token.ts';
import { describe } from '../../http/openapi.ts';
import { invalid, parseParams, parseQuery } from '../../http/validate.ts';
import { getLogWithContext } from '../get-log.ts';
import { logHistogram } from '../log-histogram.ts';
import { searchLogs } from '../search-logs.ts';
import { createTailSlots, LIVE_TAIL, logTailSource } from '../stream-tail.ts';
import { openLogTail } from '../tail-logs.ts';
import { compileQueryOrThrow } from '../filter.ts';
import { type AttributeFilter, LogId, parseLogQuery } from '../../log-view/query.ts';
import { ContextQuery, HistogramQuery, type LogFilter, LogParams, SearchQuery, selectedLevels, TailQuery } from '../schemas.ts';
import { LogContextResponse, LogHistogramResponse, LogSearchResponse, TAIL_STREAM } from '../responses.ts';

function toFilter(p: {
  projectId?: string;
  q?: string;
  level?: LogFilter['levels'];
  minLevel?: NonNullable<LogFilter['levels']>[number];
  service?: string[];
  traceId?: string;
  spanId?: string;
  has?: string[];
}, attributes: AttributeFilter[]): LogFilter {
  const levels = selectedLevels(p.level, p.minLevel);
  if (levels && levels.length === 0) throw invalid('query.level', 'selects no level together with minLevel');
  // Syntax errors are a 400 before anything is read (and before project visibility is checked).
  if (p.q !== undefined && p.q.trim() !== '') compileQueryOrThrow(p.q);
  return { projectId: p.projectId, q: p.q, levels, services: p.service, traceId: p.traceId, spanId: p.spanId, has: p.has, attributes };
}

const query = (c: Context<AppEnv>) => c.req.query() as Record<string, string>;

const READER = { auth: ['user', 'apiKey'], scope: 'read' } as const;
/** Besides the listed parameters, log queries take attribute conditions: `attr.<key>=<value>` (repeatable). */
const ATTR = 'Attribute conditions: `attr.<key>=<value>` (the attribute equals the value) and `has=<key>,...`, besides the parameters listed.';

/**
 * Log search, level histogram, a log with its context, live tail: the logs function's own routes
 * (traces, retention settings and exports join them in src/app/functions.ts). Reads: users (RLS) or
 * keys with read scope.
 */
export function logsRoutes(deps: Deps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const tailSlots = createTailSlots(deps);

  app.get('/search', describe({ summary: 'Search logs (full text, levels, services, attributes), newest first', description: ATTR, ...READER, query: SearchQuery, responses: { 200: LogSearchResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { params: p, attributes } = parseLogQuery(query(c), SearchQuery);
    const result = await searchLogs(deps, claims, keyProjectId, { filter: toFilter(p, attributes), from: p.from, to: p.to, order: p.order, limit: p.limit, cursor: p.cursor });
    await meterQuery(deps, c, 'logs', p.projectId ?? keyProjectId, result.logs.length);
    return c.json(result);
  });

  app.get('/histogram', describe({ summary: 'Log lines per level over time', description: ATTR, ...READER, query: HistogramQuery, responses: { 200: LogHistogramResponse } }), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { params: p, attributes } = parseLogQuery(query(c), HistogramQuery);
    const histogram = await logHistogram(deps, claims, keyProjectId, { filter: toFilter(p, attributes), from: p.from, to: p.to, step: p.step, buckets: p.buckets });
    await meterQuery(deps, c, 'logs', p.projectId ?? keyProjectId, histogram.buckets.length);
    return c.json(histogram);
  });

  app.post('/tail/token', describeStreamToken('live tail'), mintStreamToken(deps));
  app.get('/tail', describe({ summary: 'Live tail: new log lines as server-sent events', description: `${ATTR} Resume with Last-Event-ID or lastId.`, ...READER, query: TailQuery, responses: { 200: TAIL_STREAM } }), acceptStreamToken(deps), async (c) => {
    const { claims, keyProjectId } = readerClaims(c);
    const { params: p, attributes } = parseLogQuery(query(c), TailQuery);
    const header = c.req.header('last-event-id');
    if (header !== undefined && !LogId.safeParse(header).success) throw invalid('header.last-event-id', 'must be a log id');
    // Errors (bad filter, unknown project, a full cap) are answered before the stream starts.
    const credential = streamCredential(c.get('identity'), claims);
    const tail = await openLogTail(deps, claims, keyProjectId, credential, { filter: toFilter(p, attributes), rate: p.rate, lastId: header ?? p.lastId, pollMs: STREAM_TIMING.pollMs });
    await meterQuery(deps, c, 'logs', p.projectId ?? keyProjectId, 0);
    return respondWithStream(c, deps, LIVE_TAIL, tailSlots, logTailSource(tail));
  });

  app.get('/:id', describe({ summary: 'A log line with the lines around it', ...READER, params: LogParams, query: ContextQuery, responses: { 200: LogContextResponse } }), async (c) => {
    const { claims } = readerClaims(c);
    const { id } = parseParams(c, LogParams);
    const q = parseQuery(c, ContextQuery);
    const context = await getLogWithContext(deps, claims, { id, projectId: q.projectId, before: q.before, after: q.after });
    await meterQuery(deps, c, 'logs', context.log.projectId, 1 + context.before.length + context.after.length);
    return c.json(context);
  });

  return app;
}
