import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';

/** Metric names of a project (optionally by prefix) with their definition and series count. */
export async function listMetricNames(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: { projectId?: string; prefix?: string; limit: number }) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const rows = await tx.query<{
      name: string;
      types: string[];
      unit: string | null;
      series: string | number;
      last_seen_at: Date;
      description: string | null;
      default_aggregation: string | null;
      def_unit: string | null;
    }>(
      `select s.name, array_agg(distinct s.type) as types, min(s.unit) as unit, count(*) as series, max(s.last_seen_at) as last_seen_at,
              min(d.description) as description, min(d.default_aggregation) as default_aggregation, min(d.unit) as def_unit
       from public.metric_series s
       join public.projects p on p.id = s.project_id
       left join public.metric_definitions d on d.organization_id = p.organization_id and d.name = s.name
       where s.project_id = $1 and ($2::text is null or starts_with(s.name, $2))
       group by s.name order by s.name limit $3`,
      [projectId, q.prefix ?? null, q.limit],
    );
    return rows.map((r) => ({
      name: r.name,
      types: r.types,
      unit: r.def_unit ?? r.unit,
      description: r.description,
      defaultAggregation: r.default_aggregation ?? 'avg',
      series: Number(r.series),
      lastSeenAt: new Date(r.last_seen_at).toISOString(),
    }));
  });
}
