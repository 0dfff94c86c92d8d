import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { IncidentsQuery } from './schemas.ts';
import { type IncidentRow, incidentView } from './views.ts';

/** A project's incidents, newest first, under the caller's claims (RLS). */
export async function listIncidents(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: IncidentsQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    return tx.query<IncidentRow>(
      `select id, project_id, correlation_key, started_at, ended_at, status, member_count from public.anomaly_incidents
       where project_id = $1 and ($2::text is null or status = $2)
         and ($3::timestamptz is null or coalesce(ended_at, 'infinity') >= $3) and ($4::timestamptz is null or started_at < $4)
       order by started_at desc limit $5`,
      [projectId, q.status ?? null, q.from ?? null, q.to ?? null, q.limit],
    );
  });
  return rows.map(incidentView);
}
