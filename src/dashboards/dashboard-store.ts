import { AppError, forbidden, notFound } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { DASHBOARD_COLUMNS, type DashboardRow, type DashboardValues } from './dashboard-views.ts';

/**
 * The dashboards' SQL shared by the verbs. Every statement runs under the caller's claims (RLS):
 * a dashboard the caller cannot see (another tenant's, a colleague's private one) is a 404, and a
 * write RLS refuses on one they can see is a 403.
 */

export async function findDashboard(tx: Queryable, id: string): Promise<DashboardRow> {
  const [row] = await tx.query<DashboardRow>(`select ${DASHBOARD_COLUMNS} from public.dashboards where id = $1`, [id]);
  if (!row) throw notFound('Dashboard');
  return row;
}

/** A visible dashboard the caller may change (the update policy's question): 404, else 403. */
export async function findEditableDashboard(tx: Queryable, id: string, what: 'change' | 'delete'): Promise<DashboardRow> {
  const row = await findDashboard(tx, id);
  if (!row.can_edit) throw forbidden(`Only its creator (while they may change the project), owners and admins can ${what} a dashboard`);
  return row;
}

/**
 * The project a new dashboard goes into: 404 when the caller cannot see it, 403 when they may see
 * but not change it (viewers). The per-project cap (DASHBOARD_LIMITS.dashboardsPerProject) is the
 * insert trigger's: it counts colleagues' private dashboards, which RLS hides from the caller.
 */
export async function projectForNewDashboard(tx: Queryable, projectId: string) {
  const id = await resolveProject(tx, projectId, undefined, 'body.projectId');
  const [p] = await tx.query<{ organization_id: string; may_write: boolean }>(
    `select organization_id, id in (select private.writable_project_ids()) as may_write from public.projects where id = $1`,
    [id],
  );
  if (!p?.may_write) throw forbidden('Only owners, admins and members assigned to the project can add its dashboards');
  return { id, organizationId: p.organization_id };
}

export async function insertDashboard(tx: Queryable, project: { id: string; organizationId: string }, values: DashboardValues): Promise<DashboardRow> {
  const [row] = await tx.query<DashboardRow>(
    `insert into public.dashboards (project_id, organization_id, title, description, panels, variables, time_range, visibility)
     values ($1, $2, $3, $4, $5::text::jsonb, $6::text::jsonb, $7::text::jsonb, $8)
     returning ${DASHBOARD_COLUMNS}`,
    [project.id, project.organizationId, ...values],
  );
  if (!row) throw new AppError('INTERNAL', 'The dashboard was not stored');
  return row;
}
