import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { DASHBOARD_COLUMNS, type DashboardRow, toDashboardSummary } from './dashboard-views.ts';

/**
 * The dashboards of one project (the one named, or the API key's) the caller may see: the shared
 * ones and their own private ones, by title. At most DASHBOARD_LIMITS.dashboardsPerProject, so no pages.
 */
export async function listDashboards(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: { projectId?: string | undefined }) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, query.projectId, keyProjectId);
    return tx.query<DashboardRow>(`select ${DASHBOARD_COLUMNS} from public.dashboards where project_id = $1 order by lower(title), id`, [projectId]);
  });
  return rows.map(toDashboardSummary);
}
