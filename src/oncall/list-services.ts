import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { SERVICE_COLUMNS, type ServiceRow, toServiceView } from './views.ts';

/** A project's services (its readers), by name. */
export async function listServices(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: { projectId?: string }) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, query.projectId, keyProjectId);
    const rows = await tx.query<ServiceRow>(`select ${SERVICE_COLUMNS} from public.oncall_services where project_id = $1 order by name, id`, [projectId]);
    return rows.map(toServiceView);
  });
}
