import { cursorCodec } from '../core/cursor.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import { serverSecret } from '../db/server-secret.ts';
import type { Queryable } from '../db/types.ts';
import type { SearchTracesQuery, ServiceCount, TraceHit } from './schemas.ts';
import { requireProject } from './scope.ts';
import { EPOCH_US, isoMicros, msBetween, openCursor, sealCursor } from './time.ts';

/** Matching spans read per statement while collecting a page of distinct traces. */
const BATCH = 500;
/** Statements per page at most; each adds at least one new trace, so a page can end short (with a cursor). */
const MAX_BATCHES = 20;

interface MatchRow {
  trace_id: string;
  span_id: string;
  name: string;
  service: string;
  status: string;
  duration_ms: number;
  start_us: number;
}

/**
 * Traces with a span matching every filter (service, operation, duration, status, attributes) that
 * started in [from, to), newest first. Like Jaeger, all filters apply to one span. A trace is ordered
 * by its newest matching span: (start, trace id) is the keyset cursor, and a later page skips every
 * trace that has a matching span at or above the cursor, so no trace is listed twice.
 *
 * Spans are read newest first in batches (Postgres can stop early; with a service filter it walks
 * spans_project_id_service_start_idx), each batch leaving out traces already found.
 */
export async function searchTraces(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  query: SearchTracesQuery,
): Promise<{ traces: TraceHit[]; nextCursor: string | null }> {
  const cursors = cursorCodec(await serverSecret(deps.db));
  const page = query.cursor === undefined ? undefined : openCursor(cursors, 'traces.search', query.cursor, /^[0-9a-f]{32}$/);
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await requireProject(tx, query.projectId, keyProjectId);
    const params: unknown[] = [projectId, query.from, query.to];
    const p = (v: unknown) => `$${params.push(v)}`;
    const service = query.service === undefined ? undefined : p(query.service);
    const operation = query.operation === undefined ? undefined : p(query.operation);
    const min = query.minDurationMs === undefined ? undefined : p(query.minDurationMs);
    const max = query.maxDurationMs === undefined ? undefined : p(query.maxDurationMs);
    const status = query.status === undefined ? undefined : p(query.status);
    const attrs = query.attr.map((f) => ({ key: p(f.key), value: f.value === undefined ? undefined : p(f.value) }));
    /** Every filter, over the span alias a: a span "matches". */
    const matches = (a: string) =>
      [
        `${a}.project_id = $1 and ${a}.start_time >= $2 and ${a}.start_time < $3`,
        service && `${a}.service = ${service}`,
        operation && `${a}.name = ${operation}`,
        min && `${a}.duration_ms >= ${min}::float8`,
        max && `${a}.duration_ms <= ${max}::float8`,
        status && `${a}.status = ${status}`,
        // Span attributes or resource attributes (host.name, ...), compared as text: 500 matches "500".
        ...attrs.map(({ key, value }) =>
          value === undefined
            ? `(${a}.attributes ? ${key} or ${a}.resource ? ${key})`
            : `(${a}.attributes ->> ${key} = ${value} or ${a}.resource ->> ${key} = ${value})`,
        ),
      ]
        .filter(Boolean)
        .join(' and ');

    let where = matches('s');
    if (page) {
      const t = p(page.time);
      const id = p(page.id);
      where += ` and (s.start_time, s.trace_id) < (${t}::timestamptz, ${id})
        and not exists (select 1 from public.spans n
                        where n.trace_id = s.trace_id and ${matches('n')} and (n.start_time, n.trace_id) >= (${t}::timestamptz, ${id}))`;
    }

    const found = new Map<string, MatchRow>();
    let last: MatchRow | undefined;
    let exhausted = false;
    for (let batch = 0; batch < MAX_BATCHES && found.size <= query.limit; batch++) {
      const batchParams = [...params];
      const q = (v: unknown) => `$${batchParams.push(v)}`;
      let batchWhere = where;
      if (last) batchWhere += ` and (s.start_time, s.trace_id, s.span_id) < (${q(isoMicros(last.start_us))}::timestamptz, ${q(last.trace_id)}, ${q(last.span_id)})`;
      if (found.size > 0) batchWhere += ` and s.trace_id <> all(${q([...found.keys()])}::text[])`;
      const rows = await tx.query<MatchRow>(
        `select s.trace_id, s.span_id, s.name, s.service, s.status, s.duration_ms, ${EPOCH_US('s.start_time')} as start_us
         from public.spans s
         where ${batchWhere}
         order by s.start_time desc, s.trace_id desc, s.span_id desc
         limit ${BATCH}`,
        batchParams,
      );
      for (const row of rows) if (!found.has(row.trace_id)) found.set(row.trace_id, row);
      last = rows[rows.length - 1];
      if (rows.length < BATCH) {
        exhausted = true;
        break;
      }
    }

    const hits = [...found.values()].slice(0, query.limit);
    const more = found.size > query.limit || (!exhausted && hits.length > 0);
    const tail = hits[hits.length - 1];
    return {
      traces: await summarize(tx, projectId, hits),
      nextCursor: more && tail ? sealCursor(cursors, 'traces.search', tail.start_us, tail.trace_id) : null,
    };
  }, INTERACTIVE_READ);
}

/** Whole-trace figures for the traces found: span and error counts per service, extent, root span. */
async function summarize(tx: Queryable, projectId: string, hits: MatchRow[]): Promise<TraceHit[]> {
  if (hits.length === 0) return [];
  const ids = hits.map((h) => h.trace_id);
  const groups = await tx.query<{ trace_id: string; service: string; n: number; e: number; start_us: number; end_us: number }>(
    `select trace_id, service, count(*)::int as n, (count(*) filter (where status = 'error'))::int as e,
            ${EPOCH_US('min(start_time)')} as start_us, ${EPOCH_US('max(end_time)')} as end_us
     from public.spans
     where project_id = $1 and trace_id = any($2::text[])
     group by trace_id, service`,
    [projectId, ids],
  );
  const roots = await tx.query<{ trace_id: string; span_id: string; service: string; name: string }>(
    `select distinct on (trace_id) trace_id, span_id, service, name
     from public.spans
     where project_id = $1 and trace_id = any($2::text[]) and parent_span_id is null
     order by trace_id, start_time, span_id`,
    [projectId, ids],
  );
  const rootOf = new Map(roots.map((r) => [r.trace_id, { spanId: r.span_id, service: r.service, name: r.name }]));
  return hits.map((h) => {
    const mine = groups.filter((g) => g.trace_id === h.trace_id);
    const startUs = Math.min(...mine.map((g) => g.start_us));
    const endUs = Math.max(...mine.map((g) => g.end_us));
    const services: ServiceCount[] = mine
      .map((g) => ({ service: g.service, spanCount: g.n, errorCount: g.e }))
      .sort((a, b) => b.spanCount - a.spanCount || (a.service < b.service ? -1 : 1));
    return {
      traceId: h.trace_id,
      root: rootOf.get(h.trace_id) ?? null,
      start: isoMicros(startUs),
      durationMs: msBetween(startUs, endUs),
      spanCount: services.reduce((n, s) => n + s.spanCount, 0),
      errorCount: services.reduce((n, s) => n + s.errorCount, 0),
      services,
      matched: { spanId: h.span_id, service: h.service, name: h.name, start: isoMicros(h.start_us), durationMs: h.duration_ms, status: h.status },
    };
  });
}
