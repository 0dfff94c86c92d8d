import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';

/** Tag keys of a metric with how many distinct values each has (autocomplete, cardinality at a glance). */
export async function listTagKeys(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: { projectId?: string; metric: string }) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const rows = await tx.query<{ key: string; values: string | number }>(
      `select t.key, count(distinct t.value) as values
       from public.metric_series s, jsonb_each_text(s.tags) t
       where s.project_id = $1 and s.name = $2
       group by t.key order by t.key limit 500`,
      [projectId, q.metric],
    );
    return rows.map((r) => ({ key: r.key, values: Number(r.values) }));
  });
}

/** Values of one tag key for a metric, optionally by prefix. */
export async function listTagValues(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  q: { projectId?: string; metric: string; key: string; prefix?: string; limit: number },
) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const rows = await tx.query<{ value: string }>(
      `select distinct s.tags ->> $3 as value
       from public.metric_series s
       where s.project_id = $1 and s.name = $2 and s.tags ? $3 and ($4::text is null or starts_with(s.tags ->> $3, $4))
       order by 1 limit $5`,
      [projectId, q.metric, q.key, q.prefix ?? null, q.limit],
    );
    return rows.map((r) => r.value);
  });
}
