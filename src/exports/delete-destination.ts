import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';

/**
 * Removes a destination (owners and admins; audited). Its schedules and runs go with it; objects
 * already written stay in the bucket. A run in progress notices at its next commit and stops.
 */
export async function deleteDestination(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const [visible] = await tx.query('select id from public.export_destinations where id = $1', [id]);
    if (!visible) throw notFound('Export destination');
    const deleted = await tx.query('delete from public.export_destinations where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can remove export destinations');
  });
}
