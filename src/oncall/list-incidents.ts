import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { IncidentsQuery } from './schemas.ts';
import { INCIDENT_COLUMNS, type IncidentRow, toIncidentView } from './views.ts';

/** A project's incidents (its readers), newest first; `state=open` is triggered or acknowledged. */
export async function listIncidents(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: IncidentsQuery) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    const rows = await tx.query<IncidentRow>(
      `select ${INCIDENT_COLUMNS} from public.incidents
       where project_id = $1
         and ($2::text is null or ($2 = 'open' and state <> 'resolved') or state = $2)
         and ($3::uuid is null or service_id = $3)
       order by created_at desc, id desc limit $4`,
      [projectId, q.state ?? null, q.serviceId ?? null, q.limit],
    );
    return rows.map(toIncidentView);
  });
}
