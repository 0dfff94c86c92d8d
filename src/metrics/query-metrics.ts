import type { Deps } from '../core/deps.ts';
import { projectRequired, resolveProject } from '../orgs/lookup.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { ORIGIN, TOTALS_RESOLUTIONS } from './resolutions.ts';
import { planQuery, type QueryPlan } from './plan-query.ts';
import { type Aggregation, QUERY_LIMITS, type QueryResult, type SeriesQuery, type TagFilter } from './schemas.ts';
import { MergedSketch, mergeSketchText } from './sketch.ts';

/** Each percentile: its quantile, and its index in a totals row's generated `quantiles` (migration ..2500). */
const QUANTILES: Record<string, { q: number; stored: number }> = {
  p50: { q: 0.5, stored: 1 },
  p90: { q: 0.9, stored: 2 },
  p95: { q: 0.95, stored: 3 },
  p99: { q: 0.99, stored: 4 },
};

/**
 * Each other aggregation over a (group, output bucket)'s rollup rows, in SQL. Rate is the summed
 * counter increase, divided by the step's seconds here.
 */
const VALUE_SQL = {
  avg: 'sum(r.sum) / nullif(sum(r.count), 0)::float8',
  sum: 'sum(r.sum)',
  min: 'min(r.min)',
  max: 'max(r.max)',
  count: 'sum(r.count)::float8',
  rate: 'sum(r.increase)',
} as const satisfies Record<Exclude<Aggregation, 'p50' | 'p90' | 'p95' | 'p99'>, string>;

/**
 * A percentile panel's statement groups sketch texts by (group, bucket) with string_agg. The planner
 * cannot estimate the groups (numbers computed in the query), assumes one per row, and for string_agg's
 * state sizes that as hundreds of MB: it sorts instead of hashing, which doubled the statement's time
 * (28,500 rows: 30 against 23 ms; bench:query, p95 by service). The panel's transaction runs only
 * statements that need no sort, so sorting is disabled for it; hashing still spills to disk past
 * work_mem, so memory stays bounded.
 */
const PERCENTILE_SETTINGS: Readonly<Record<string, string>> = { enable_sort: 'off' };

/** Panels of one request run at most this many at a time, each on its own pooled connection. */
const PANEL_CONCURRENCY = 4;

/**
 * Runs a dashboard's queries under the caller's claims (RLS), each over the rollup resolution its
 * step allows. Gaps are null points, so charts show them as gaps. The project is resolved once,
 * alongside the panels, which run concurrently (at most PANEL_CONCURRENCY), each in its own read
 * transaction, as Grafana runs panels: a batch is as fast as its slowest few panels, not the sum of
 * all of them.
 * (Embedded PGlite serialises the transactions, which is correct, only not faster.)
 */
export async function queryMetrics(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  request: { projectId?: string; queries: SeriesQuery[] },
): Promise<QueryResult[]> {
  const plans = request.queries.map((q, i) => planQuery(q, i));
  const readTx = <T>(fn: (tx: Queryable) => Promise<T>, settings: Record<string, string> = {}) =>
    withClaims(deps.db, actor, fn, {
      ...INTERACTIVE_READ,
      // A week of hourly sketches of 100 series (16,700 rows, ~5 MB of text) grouped for string_agg:
      // in the default 4 MB it spilled to disk.
      work_mem: '32MB',
      ...settings,
    });
  const projectId = request.projectId ?? keyProjectId;
  if (!projectId) throw projectRequired('body.projectId');
  const unaggregated = request.queries.filter((q) => !q.aggregation).map((q) => q.metric);
  // A read key's own project needs no check: the key is verified, holds the read scope (the route
  // demands it), and goes with its project. Others are resolved under RLS.
  const checked = projectId !== keyProjectId;
  const resolving =
    checked || unaggregated.length > 0
      ? readTx(async (tx) => {
          if (checked) await resolveProject(tx, projectId, undefined);
          return defaultAggregations(tx, projectId, unaggregated);
        })
      : Promise.resolve(new Map<string, Aggregation>());
  resolving.catch(() => {}); // observed here, awaited below
  // The panels read under RLS, so before the project is known to be visible they can read nothing
  // of a project the caller may not see; the answer waits for that check (404 when it fails, before
  // any panel's error). Unless default aggregations are needed, they start without waiting for it.
  const defaults = unaggregated.length > 0 ? await resolving : new Map<string, Aggregation>();
  const results: QueryResult[] = new Array(request.queries.length);
  let next = 0;
  let failed = false;
  resolving.catch(() => (failed = true)); // start no more panels
  const worker = async () => {
    for (let i = next++; i < request.queries.length && !failed; i = next++) {
      const q = request.queries[i]!;
      const aggregation = q.aggregation ?? defaults.get(q.metric) ?? 'avg';
      try {
        results[i] = await readTx((tx) => runOne(tx, projectId, { ...q, aggregation }, plans[i]!, q.id ?? String(i)), aggregation in QUANTILES ? PERCENTILE_SETTINGS : {});
      } catch (err) {
        failed = true; // the request fails: start no more panels
        throw err;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PANEL_CONCURRENCY, request.queries.length) }, worker));
  } finally {
    await resolving;
  }
  return results;
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

/**
 * The filters as SQL conditions. Over series (`value` absent) they test the series' tags, `=` and
 * `!=` by containment so the tags' GIN index serves them; over group totals they test the group's
 * tag value (`value`, null for series without the tag), with the same outcome for a missing tag:
 * `!=` and `not_in` pass it, `=`, `in` and `regex` do not.
 */
function filterSql(filters: TagFilter[], params: unknown[], value?: string): string {
  return filters
    .map((f) => {
      const p = (v: unknown) => {
        params.push(v);
        return `$${params.length}`;
      };
      const tag = () => value ?? `(s.tags ->> ${p(f.key)})`;
      switch (f.op) {
        case '=':
          return value ? `${value} = ${p(f.value)}` : `s.tags @> ${p(JSON.stringify({ [f.key]: f.value }))}::text::jsonb`;
        case '!=':
          return value ? `${value} is distinct from ${p(f.value)}` : `not (s.tags @> ${p(JSON.stringify({ [f.key]: f.value }))}::text::jsonb)`;
        case 'in':
          return `${tag()} = any(${p(f.values)}::text[])`;
        case 'not_in':
          return `coalesce(not (${tag()} = any(${p(f.values)}::text[])), true)`;
        case 'regex':
          return `coalesce(${tag()} ~ ${p(f.value)}, false)`;
      }
    })
    .map((sql) => ` and ${sql}`)
    .join('');
}

interface Group {
  /** The group's tags (group-by keys the series has). */
  tags: Record<string, string>;
  /** Sort key: JSON of the group-by values, nulls included, so groups come out in tag order. */
  key: string;
  /** Value per output bucket, created with the group's first row: groups without rows are not returned. */
  values?: Array<number | null>;
}

/** Where a panel's rows come from: the FROM clause and its parameters, and how a row's `g` names its group. */
interface Source {
  from: string;
  params: unknown[];
  /** SQL of the row's group: a number of matchSeries', or a group total's tag value. */
  group: string;
  groupOf: (g: unknown) => Group;
  /** Each output group's rows are single totals rows (one per resolution bucket), with stored quantiles. */
  single?: boolean;
}

/** One group for all of a panel's rows (no group-by). */
const oneGroup = (): Group => ({ tags: {}, key: '[]' });

/** Totals rows (alias r) of the project ($1), resolution ($2) and range ($3, $4) of a panel, of metric `name`. */
const totalsRange = (name: string) => `r.project_id = $1 and r.resolution = $2 and r.bucket >= $3 and r.bucket < $4 and r.name = ${name}`;

/**
 * The rows of a panel whose filters and group-by name at most one tag K, from the metric totals when
 * they can answer it: the whole metric's rows (metric_totals) without K, K's rows per value
 * (metric_group_totals) otherwise, their values filtered, then merged into one group or one per
 * value. K's rows answer only if in every bucket of the range their counts add up to the whole
 * metric's (the rows of K partition the metric's series, so they then hold every point; see migration
 * ..2400): otherwise undefined, and the panel reads the series' rollups. The check reads the whole
 * metric's row and K's rows of each bucket (index scans), about a millisecond.
 */
async function totalsSource(tx: Queryable, q: SeriesQuery, plan: QueryPlan, base: unknown[]): Promise<Source | undefined> {
  const keys = new Set([...q.filters.map((f) => f.key), ...q.groupBy]);
  if (!TOTALS_RESOLUTIONS.includes(plan.resolution.name) || keys.size > 1) return undefined;
  const whole = oneGroup();
  const params = [...base, q.metric];
  const range = totalsRange('$6');
  const [key] = keys;
  if (key === undefined) return { from: `public.metric_totals r where ${range}`, params, group: '0', groupOf: () => whole, single: true };
  params.push(key);
  const source: Source = {
    from: `public.metric_group_totals r where ${range} and r.tag_key = $7${filterSql(q.filters, params, 'r.tag_value')}`,
    params,
    group: q.groupBy.length > 0 ? 'r.tag_value' : '0',
    groupOf: () => whole,
    // One row per group and bucket: a group per value, or one value named by `=`.
    single: q.groupBy.length > 0 || (q.filters.length === 1 && q.filters[0]!.op === '='),
  };
  if (q.groupBy.length > 0) {
    const byValue = new Map<unknown, Group>();
    source.groupOf = (value) => {
      let g = byValue.get(value);
      if (!g) byValue.set(value, (g = { tags: typeof value === 'string' ? { [key]: value } : {}, key: JSON.stringify([value ?? null]) }));
      return g;
    };
  }
  // Its own parameters: the step ($5 above) has no use here.
  const inRange = totalsRange('$5');
  const [missing] = await tx.query<{ n: number }>(
    `select count(*)::int as n
     from (select r.bucket, r.count from public.metric_totals r where ${inRange}) w
     full join (select r.bucket, sum(r.count) as c from public.metric_group_totals r where ${inRange} and r.tag_key = $6 group by r.bucket) g using (bucket)
     where g.c is distinct from w.count`,
    [...base.slice(0, 4), q.metric, key],
  );
  return missing!.n === 0 ? source : undefined;
}

/**
 * One panel. Its rows come from one of two sources:
 * - the metric totals (5m and coarser; totalsSource), when the filters and group-by name at most one
 *   tag: one row per bucket (and tag value) instead of one per series and bucket (p99 of 100 series
 *   over 30 days: 31 rows instead of 3,100; p95 by service over a day at 5m: 2,880 instead of 28,500);
 * - otherwise the series' rollups: without group-by in one statement joining the filtered series to
 *   their rollups; with group-by in two, first the matching series with their group-by values (few
 *   rows), each series getting a group number, then the rollup rows of those series, aggregated per
 *   (group number, output bucket) in SQL.
 * Buckets come back as epoch milliseconds and groups as small integers or tag values, so neither Date
 * nor jsonb is parsed per row, and grouping hashes two scalars instead of a jsonb object per row.
 * A percentile whose every output point is one totals row (step = resolution) is that row's stored
 * quantile. Others cannot be added in SQL: each (group, bucket) returns its sketches as one text,
 * merged here in one scan into dense bucket counts (mergeSketchText, MergedSketch). Expanding sketches into
 * rows in SQL cost several times more, and JSON.parse plus merging objects about 4 times more
 * (measured by bench:query).
 */
async function runOne(tx: Queryable, projectId: string, q: SeriesQuery & { aggregation: Aggregation }, plan: QueryPlan, id: string): Promise<QueryResult> {
  const empty = { id, resolution: plan.resolution.name, step: plan.stepMs / 1000, series: [], truncated: false };
  const base: unknown[] = [projectId, plan.resolution.name, new Date(plan.from), new Date(plan.to), `${plan.stepMs / 1000} seconds`];
  let source = await totalsSource(tx, q, plan, base);
  if (!source && q.groupBy.length === 0) {
    // One group: the filters join the series to their rollups in the same statement.
    const params = [...base, q.metric];
    const whole = oneGroup();
    source = {
      from: `public.metric_series s join public.metric_rollups r on r.series_id = s.id and r.project_id = $1 and r.resolution = $2 and r.bucket >= $3 and r.bucket < $4
     where s.project_id = $1 and s.name = $6${filterSql(q.filters, params)}`,
      params,
      group: '0',
      groupOf: () => whole,
    };
  } else if (!source) {
    const matched = await matchSeries(tx, projectId, q);
    if (matched.series.length === 0) return empty;
    source = {
      from: `unnest(string_to_array($6, ',')::bigint[], string_to_array($7, ',')::int[]) as m(series_id, g)
     join public.metric_rollups r on r.series_id = m.series_id and r.project_id = $1 and r.resolution = $2 and r.bucket >= $3 and r.bucket < $4`,
      params: [...base, matched.series.join(','), matched.seriesGroups.join(',')],
      group: 'm.g',
      groupOf: (g) => matched.groups[g as number]!,
    };
  }
  const { from, params, group, groupOf } = source;
  // Grouped by the timestamptz bucket, printed as epoch ms once per output row: `extract(epoch ...)`
  // is numeric, and grouping 28,600 rollup rows on a numeric key cost more than the join itself
  // (20 against 11 ms in EXPLAIN ANALYZE; bench:query, type c).
  const bin = `date_bin($5::interval, r.bucket, ${ORIGIN})`;
  const bucket = `date_part('epoch', ${bin}) * 1000`;
  // Output bucket b is values[(b - plan.from) / step] of its group; b is on the plan's grid, since
  // both are aligned to ORIGIN.
  const withData: Group[] = [];
  const put = (row: { g: unknown; b: number }, value: number | null) => {
    const at = (Number(row.b) - plan.from) / plan.stepMs;
    if (!(Number.isInteger(at) && at >= 0 && at < plan.points)) throw new Error(`metrics query: bucket ${row.b} is off the plan's grid`);
    const g = groupOf(row.g);
    if (!g.values) withData.push(g);
    (g.values ??= new Array<number | null>(plan.points).fill(null))[at] = value;
  };
  const quantile = QUANTILES[q.aggregation];
  if (quantile !== undefined && source.single && plan.stepMs === plan.resolution.ms) {
    // Every output point is one totals row: its stored quantile, no sketch to send or merge.
    const rows = await tx.query<{ g: unknown; b: number; v: number | null }>(
      `select ${group} as g, ${bucket} as b, max(r.quantiles[${quantile.stored}]) as v from ${from} group by 1, ${bin}`,
      params,
    );
    for (const row of rows) put(row, row.v);
  } else if (quantile !== undefined) {
    const rows = await tx.query<{ g: unknown; b: number; sketches: string }>(
      `select ${group} as g, ${bucket} as b, string_agg(r.sketch_text, ' ') as sketches from ${from} group by 1, ${bin}`,
      params,
    );
    // One sketch for every row in turn: allocating one per row tripled the merge time of 2,800
    // small sketches (15 against 5 ms).
    const merged = new MergedSketch();
    for (const row of rows) put(row, mergeSketchText(row.sketches, merged.clear()).quantile(quantile.q));
  } else {
    // Only the panel's aggregate is computed and sent: one float per (group, bucket) row, not all five.
    const rows = await tx.query<{ g: unknown; b: number; v: number | null }>(
      `select ${group} as g, ${bucket} as b, ${VALUE_SQL[q.aggregation as keyof typeof VALUE_SQL]} as v from ${from} group by 1, ${bin}`,
      params,
    );
    const perSecond = q.aggregation === 'rate' ? plan.stepMs / 1000 : 1;
    for (const row of rows) put(row, row.v === null ? null : row.v / perSecond);
  }
  // Groups with data, in tag order; the first maxSeriesPerQuery are returned.
  withData.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const kept = withData.slice(0, QUERY_LIMITS.maxSeriesPerQuery);
  return {
    ...empty,
    series: kept.map(({ tags, values }) => ({ tags, points: values!.map((v, i): [number, number | null] => [plan.from + i * plan.stepMs, v]) })),
    truncated: withData.length > kept.length,
  };
}

/** The metric's series that pass the tag filters, each with the number of its group-by group. */
async function matchSeries(tx: Queryable, projectId: string, q: SeriesQuery): Promise<{ series: string[]; seriesGroups: number[]; groups: Group[] }> {
  const seriesParams: unknown[] = [projectId, q.metric];
  const groupCols = q.groupBy.map((k) => {
    seriesParams.push(k);
    return `s.tags ->> $${seriesParams.length}`;
  });
  const series = await tx.query<{ id: string | number; g: Array<string | null> | null }>(
    `select s.id, ${groupCols.length ? `array[${groupCols.join(', ')}]` : 'null::text[]'} as g
     from public.metric_series s
     where s.project_id = $1 and s.name = $2${filterSql(q.filters, seriesParams)}`,
    seriesParams,
  );
  const groups: Group[] = [];
  const groupOf = new Map<string, number>();
  const seriesGroups = series.map((row) => {
    const values = row.g ?? [];
    const key = JSON.stringify(values);
    let g = groupOf.get(key);
    if (g === undefined) {
      const tags: Record<string, string> = {};
      q.groupBy.forEach((k, i) => {
        if (values[i] !== null && values[i] !== undefined) tags[k] = values[i]!;
      });
      groupOf.set(key, (g = groups.length));
      groups.push({ tags, key });
    }
    return g;
  });
  return { series: series.map((r) => String(r.id)), seriesGroups, groups };
}
