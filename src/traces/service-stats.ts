import type { Deps } from '../core/deps.ts';
import { type Claims, INTERACTIVE_READ, withClaims } from '../db/scoped.ts';
import type { ServiceStatsQuery, StatsPoint, StatsRow } from './schemas.ts';
import { requireProject } from './scope.ts';

interface GroupRow {
  key: string;
  requests: number;
  errors: number;
  p: Array<number | null> | null;
}

/**
 * Request count, rate, errors and duration percentiles (exact, percentile_cont over duration_ms)
 * per service, or per operation of one service, from the spans that started in [from, to);
 * optionally per `step` seconds for charts. The busiest `limit` rows, busiest first.
 */
export async function getServiceStats(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  query: ServiceStatsQuery,
): Promise<{ from: string; to: string; step: number | null; truncated: boolean; rows: StatsRow[] }> {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await requireProject(tx, query.projectId, keyProjectId);
    const params: unknown[] = [projectId, query.from, query.to];
    let where = 'project_id = $1 and start_time >= $2 and start_time < $3';
    if (query.service !== undefined) where += ` and service = $${params.push(query.service)}`;
    if (query.kind !== undefined) where += ` and kind = $${params.push(query.kind)}`;
    const key = query.service === undefined ? 'service' : 'name';
    const aggregates = `count(*)::int as requests, (count(*) filter (where status = 'error'))::int as errors,
      percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms) as p`;

    const groups = await tx.query<GroupRow>(
      `select ${key} as key, ${aggregates}
       from public.spans
       where ${where}
       group by 1
       order by requests desc, key
       limit $${params.length + 1}`,
      [...params, query.limit + 1],
    );
    const truncated = groups.length > query.limit;
    if (truncated) groups.pop();

    const seconds = (query.to.getTime() - query.from.getTime()) / 1000;
    const rows: StatsRow[] = groups.map((g) => ({
      service: query.service ?? g.key,
      ...(query.service === undefined ? {} : { operation: g.key }),
      requests: g.requests,
      ratePerSecond: g.requests / seconds,
      errors: g.errors,
      errorRate: g.requests === 0 ? 0 : g.errors / g.requests,
      durationMs: percentiles(g.p),
    }));

    if (query.step !== undefined && groups.length > 0) {
      const stepMs = query.step * 1000;
      const buckets = await tx.query<GroupRow & { b: Date }>(
        `select ${key} as key, date_bin($${params.push(query.step)}::int8 * interval '1 second', start_time, $2::timestamptz) as b, ${aggregates}
         from public.spans
         where ${where} and ${key} = any($${params.push(groups.map((g) => g.key))}::text[])
         group by 1, 2`,
        params,
      );
      const count = Math.ceil((query.to.getTime() - query.from.getTime()) / stepMs);
      const byKey = new Map<string, Map<number, GroupRow>>();
      for (const b of buckets) {
        const index = Math.round((new Date(b.b).getTime() - query.from.getTime()) / stepMs);
        const mine = byKey.get(b.key) ?? new Map<number, GroupRow>();
        byKey.set(b.key, mine.set(index, b));
      }
      for (const [i, row] of rows.entries()) {
        const mine = byKey.get(groups[i]!.key);
        const series: StatsPoint[] = [];
        for (let b = 0; b < count; b++) {
          const hit = mine?.get(b);
          series.push({
            time: new Date(query.from.getTime() + b * stepMs).toISOString(),
            requests: hit?.requests ?? 0,
            errors: hit?.errors ?? 0,
            ...percentiles(hit?.p ?? null),
          });
        }
        row.series = series;
      }
    }
    return { from: query.from.toISOString(), to: query.to.toISOString(), step: query.step ?? null, truncated, rows };
  }, INTERACTIVE_READ);
}

function percentiles(p: Array<number | null> | null): { p50: number | null; p95: number | null; p99: number | null } {
  return { p50: p?.[0] ?? null, p95: p?.[1] ?? null, p99: p?.[2] ?? null };
}
