import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findDashboard } from './dashboard-store.ts';
import { toDashboardExport } from './dashboard-views.ts';

/**
 * A dashboard in the portable form: its content without ids, project, organization, creator,
 * version or times, which POST /import takes back (into any project the caller may change).
 */
export async function exportDashboard(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toDashboardExport(await withClaims(deps.db, actor, (tx) => findDashboard(tx, id)));
}
