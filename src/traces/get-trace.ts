import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { buildSpanTree, type SpanRow } from './build-tree.ts';
import { TRACE_LIMITS, type GetTraceQuery, type SpanNode, type TraceSummary } from './schemas.ts';
import { traceScope } from './scope.ts';
import { EPOCH_US, isoMicros, msBetween } from './time.ts';

/**
 * A trace as a span tree with its summary and the number of logs that carry its id. Reads go
 * through spans_trace_id_span_id_key and logs_trace_id_idx on every daily partition, or only on the days
 * of the optional from/to hints. 404 when the caller sees no span of it.
 */
export async function getTrace(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  traceId: string,
  query: GetTraceQuery,
): Promise<{ trace: TraceSummary; spans: SpanNode[] }> {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await traceScope(tx, query.projectId, keyProjectId);
    const params: unknown[] = [traceId];
    const where = (time: string) => {
      let sql = 'trace_id = $1';
      if (projectId) sql += ` and project_id = $${params.push(projectId)}`;
      if (query.from) sql += ` and ${time} >= $${params.push(query.from)}`;
      if (query.to) sql += ` and ${time} <= $${params.push(query.to)}`;
      return sql;
    };
    const spanWhere = where('start_time');
    const rows = await tx.query<SpanRow>(
      `select project_id, span_id, parent_span_id, name, service, kind, ${EPOCH_US('start_time')} as start_us, ${EPOCH_US('end_time')} as end_us,
              duration_ms, status, status_message, attributes, resource, events, links
       from public.spans
       where ${spanWhere}
       order by start_time, span_id
       limit ${TRACE_LIMITS.maxSpansPerTrace + 1}`,
      params,
    );
    if (rows.length === 0) throw notFound('Trace');
    const truncated = rows.length > TRACE_LIMITS.maxSpansPerTrace;
    if (truncated) rows.pop();

    params.length = 1;
    const [logs] = await tx.query<{ n: number }>(`select count(*)::int as n from public.logs where ${where('time')}`, params);

    const tree = buildSpanTree(rows);
    const firstRoot = tree.roots.find((r) => !r.orphan && r.parentSpanId === null);
    return {
      trace: {
        traceId,
        projectIds: tree.projectIds,
        start: isoMicros(tree.startUs),
        end: isoMicros(tree.endUs),
        durationMs: msBetween(tree.startUs, tree.endUs),
        spanCount: tree.spanCount,
        errorCount: tree.errorCount,
        logCount: logs?.n ?? 0,
        services: tree.services,
        root: firstRoot ? { spanId: firstRoot.spanId, service: firstRoot.service, name: firstRoot.name } : null,
        roots: tree.roots.map((r) => r.spanId),
        orphanCount: tree.orphanCount,
        truncated,
      },
      spans: tree.roots,
    };
  }, INTERACTIVE_READ);
}
