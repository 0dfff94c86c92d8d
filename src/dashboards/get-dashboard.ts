import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findDashboard } from './dashboard-store.ts';
import { toDashboardView } from './dashboard-views.ts';

/** One dashboard with its panels; 404 when the caller cannot see it. */
export async function getDashboard(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toDashboardView(await withClaims(deps.db, actor, (tx) => findDashboard(tx, id)));
}
