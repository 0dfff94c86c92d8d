import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from './query-metrics.ts';

/** Metric names of a project (optionally by prefix) with their type, unit and series count. */
export async function listMetricNames(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: { projectId?: string; prefix?: string; limit: number }) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const rows = await tx.query<{ name: string; types: string[]; unit: string | null; series: string | number; last_seen_at: Date }>(
      `select name, array_agg(distinct type) as types, min(unit) as unit, count(*) as series, max(last_seen_at) as last_seen_at
       from public.metric_series
       where project_id = $1 and ($2::text is null or starts_with(name, $2))
       group by name order by name limit $3`,
      [projectId, q.prefix ?? null, q.limit],
    );
    return rows.map((r) => ({ name: r.name, types: r.types, unit: r.unit, series: Number(r.series), lastSeenAt: new Date(r.last_seen_at).toISOString() }));
  });
}
