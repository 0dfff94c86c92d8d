import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { PROJECT_COLUMNS, type ProjectRow, toProjectView } from './schemas.ts';

/** The organization's projects the caller may see: all for owner/admin/viewer, assigned ones for member. */
export async function listProjects(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    return tx.query<ProjectRow>(`select ${PROJECT_COLUMNS} from public.projects where organization_id = $1 order by name, id`, [orgId]);
  });
  return rows.map(toProjectView);
}
