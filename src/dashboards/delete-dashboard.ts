import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findEditableDashboard } from './dashboard-store.ts';

/** Removes a dashboard (its creator while they may change the project, owners, admins; audited by trigger). */
export async function deleteDashboard(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findEditableDashboard(tx, id, 'delete');
    const deleted = await tx.query('delete from public.dashboards where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only its creator (while they may change the project), owners and admins can delete a dashboard');
  });
}
