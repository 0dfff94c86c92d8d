import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { insertDashboard, projectForNewDashboard } from './dashboard-store.ts';
import { dashboardValues, toDashboardView } from './dashboard-views.ts';
import type { CreateDashboard } from './schemas.ts';

/** Adds a dashboard to a project (owners, admins, members assigned to it; the caller is its creator; audited by trigger). */
export async function createDashboard(deps: Pick<Deps, 'db'>, actor: Claims, input: CreateDashboard) {
  const values = dashboardValues(input, input.visibility, 'body.panels');
  const row = await withClaims(deps.db, actor, async (tx) => insertDashboard(tx, await projectForNewDashboard(tx, input.projectId), values));
  return toDashboardView(row);
}
