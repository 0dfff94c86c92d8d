import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { planQuery, type QueryPlan } from './plan-query.ts';
import { type Aggregation, QUERY_LIMITS, type QueryResult, type SeriesQuery, type TagFilter } from './schemas.ts';
import { mergeSketches, type Sketch, sketchQuantile } from './sketch.ts';

const ORIGIN = "timestamptz '2000-01-01 00:00:00+00'";
const QUANTILES: Record<string, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** Finds the project the caller asked about (or the API key's own), 404 when it cannot see it. */
export async function resolveProject(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined): Promise<string> {
  const id = projectId ?? keyProjectId;
  if (!id) throw notFound('Project');
  const [row] = await tx.query('select id from public.projects where id = $1', [id]);
  if (!row) throw notFound('Project');
  return id;
}

/**
 * Runs a dashboard's queries in one read transaction under the caller's claims (RLS), each over the
 * rollup resolution its step allows. Gaps are null points, so charts show them as gaps.
 */
export async function queryMetrics(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  request: { projectId?: string; queries: SeriesQuery[] },
): Promise<QueryResult[]> {
  const plans = request.queries.map((q, i) => planQuery(q, i));
  return withClaims(deps.db, actor, async (tx) => {
    await tx.query(`set local statement_timeout = '15s'`);
    // Short dashboard queries: JIT compilation costs more than it saves (measured by bench:query).
    await tx.query(`set local jit = off`);
    const projectId = await resolveProject(tx, request.projectId, keyProjectId);
    const defaults = await defaultAggregations(tx, projectId, request.queries.filter((q) => !q.aggregation).map((q) => q.metric));
    const results: QueryResult[] = [];
    for (const [i, q] of request.queries.entries()) {
      const aggregation = q.aggregation ?? defaults.get(q.metric) ?? 'avg';
      results.push(await runOne(tx, projectId, { ...q, aggregation }, plans[i]!, q.id ?? String(i)));
    }
    return results;
  });
}

/** The organization's default aggregation for metrics queried without one. */
async function defaultAggregations(tx: Queryable, projectId: string, metrics: string[]): Promise<Map<string, Aggregation>> {
  if (metrics.length === 0) return new Map();
  const rows = await tx.query<{ name: string; default_aggregation: Aggregation }>(
    `select d.name, d.default_aggregation from public.metric_definitions d
     join public.projects p on p.organization_id = d.organization_id
     where p.id = $1 and d.name = any($2::text[])`,
    [projectId, metrics],
  );
  return new Map(rows.map((r) => [r.name, r.default_aggregation]));
}

function filterSql(filters: TagFilter[], params: unknown[]): string {
  return filters
    .map((f) => {
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      switch (f.op) {
        case '=':
          return `s.tags @> ${p(JSON.stringify({ [f.key]: f.value }))}::text::jsonb`;
        case '!=':
          return `not (s.tags @> ${p(JSON.stringify({ [f.key]: f.value }))}::text::jsonb)`;
        case 'in':
          return `(s.tags ->> ${p(f.key)}) = any(${p(f.values)}::text[])`;
        case 'not_in':
          return `coalesce(not ((s.tags ->> ${p(f.key)}) = any(${p(f.values)}::text[])), true)`;
        case 'regex':
          return `coalesce((s.tags ->> ${p(f.key)}) ~ ${p(f.value)}, false)`;
      }
    })
    .map((sql) => ` and ${sql}`)
    .join('');
}

async function runOne(tx: Queryable, projectId: string, q: SeriesQuery & { aggregation: Aggregation }, plan: QueryPlan, id: string): Promise<QueryResult> {
  const params: unknown[] = [projectId, q.metric, plan.resolution.name, new Date(plan.from), new Date(plan.to), `${plan.stepMs / 1000} seconds`];
  const where = `s.project_id = $1 and s.name = $2 and r.project_id = $1 and r.resolution = $3 and r.bucket >= $4 and r.bucket < $5${filterSql(q.filters, params)}`;
  const group = q.groupBy.length
    ? `jsonb_build_object(${q.groupBy
        .map((k) => {
          params.push(k);
          return `$${params.length}::text, s.tags ->> $${params.length}`;
        })
        .join(', ')})`
    : `'{}'::jsonb`;
  const from = `public.metric_rollups r join public.metric_series s on s.id = r.series_id`;
  const quantile = QUANTILES[q.aggregation];
  type Row = { b: Date; g: Record<string, string | null>; c: number; s: number; mn: number; mx: number; inc: number | null; sketch?: Sketch };
  // Percentiles: the rollup rows' sketches are merged here rather than in SQL (expanding every
  // sketch into rows and re-aggregating jsonb cost several times more, measured by bench:query).
  const rows =
    quantile !== undefined
      ? mergeSketchRows(
          await tx.query<{ b: Date; g: Record<string, string | null>; sketch: Sketch }>(
            `select date_bin($6::interval, r.bucket, ${ORIGIN}) as b, ${group} as g, r.sketch
             from ${from}
             where ${where}`,
            params,
          ),
        )
      : await tx.query<Row>(
          `select date_bin($6::interval, r.bucket, ${ORIGIN}) as b, ${group} as g, sum(r.count)::float8 as c, sum(r.sum) as s,
                  min(r.min) as mn, max(r.max) as mx, sum(r.increase) as inc
           from ${from}
           where ${where}
           group by 1, 2 order by 2, 1`,
          params,
        );
  const bySeries = new Map<string, { tags: Record<string, string>; values: Map<number, number | null> }>();
  for (const row of rows) {
    const key = JSON.stringify(row.g);
    let entry = bySeries.get(key);
    if (!entry) {
      if (bySeries.size >= QUERY_LIMITS.maxSeriesPerQuery) continue;
      const tags: Record<string, string> = {};
      for (const [k, v] of Object.entries(row.g)) if (v !== null) tags[k] = v;
      bySeries.set(key, (entry = { tags, values: new Map() }));
    }
    entry.values.set(new Date(row.b).getTime(), valueOf(q.aggregation, row, plan.stepMs, quantile));
  }
  const truncated = new Set(rows.map((r) => JSON.stringify(r.g))).size > bySeries.size;
  const series = [...bySeries.values()].map(({ tags, values }) => {
    const points: Array<[number, number | null]> = [];
    for (let t = plan.from; t < plan.to; t += plan.stepMs) points.push([t, values.get(t) ?? null]);
    return { tags, points };
  });
  return { id, resolution: plan.resolution.name, step: plan.stepMs / 1000, series, truncated };
}

/** Groups sketch rows by (group, bucket) and merges them; ordered by group then time. */
function mergeSketchRows(rows: Array<{ b: Date; g: Record<string, string | null>; sketch: Sketch }>) {
  const merged = new Map<string, { b: Date; g: Record<string, string | null>; sketch: Sketch }>();
  for (const row of rows) {
    const key = `${JSON.stringify(row.g)}\u0000${new Date(row.b).getTime()}`;
    const hit = merged.get(key);
    if (hit) mergeSketches(hit.sketch, row.sketch);
    else merged.set(key, { b: row.b, g: row.g, sketch: { ...row.sketch } });
  }
  return [...merged.values()]
    .sort((x, y) => {
      const gx = JSON.stringify(x.g);
      const gy = JSON.stringify(y.g);
      return gx < gy ? -1 : gx > gy ? 1 : new Date(x.b).getTime() - new Date(y.b).getTime();
    })
    .map((r) => ({ ...r, c: 0, s: 0, mn: 0, mx: 0, inc: null }));
}

function valueOf(
  aggregation: Aggregation,
  row: { c: number; s: number; mn: number; mx: number; inc: number | null; sketch?: Sketch },
  stepMs: number,
  quantile: number | undefined,
): number | null {
  if (quantile !== undefined) return row.sketch ? sketchQuantile(row.sketch, quantile) : null;
  switch (aggregation) {
    case 'avg':
      return Number(row.c) > 0 ? row.s / Number(row.c) : null;
    case 'sum':
      return row.s;
    case 'min':
      return row.mn;
    case 'max':
      return row.mx;
    case 'count':
      return Number(row.c);
    case 'rate':
      return row.inc === null ? null : row.inc / (stepMs / 1000);
    default:
      return null;
  }
}
