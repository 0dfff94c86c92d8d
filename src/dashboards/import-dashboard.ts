import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { insertDashboard, projectForNewDashboard } from './dashboard-store.ts';
import { dashboardValues, toDashboardView } from './dashboard-views.ts';
import type { ImportDashboard } from './schemas.ts';

/**
 * Creates a dashboard from an export (GET /:id/export), validated as a create is: a new dashboard
 * of the caller's, version 1, whatever project the export came from.
 */
export async function importDashboard(deps: Pick<Deps, 'db'>, actor: Claims, input: ImportDashboard) {
  const content = { ...input.dashboard, title: input.title ?? input.dashboard.title };
  const values = dashboardValues(content, input.visibility, 'body.dashboard.panels');
  const row = await withClaims(deps.db, actor, async (tx) => insertDashboard(tx, await projectForNewDashboard(tx, input.projectId), values));
  return toDashboardView(row);
}
