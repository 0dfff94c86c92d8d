import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { assertNotLastReceiver, findContactPoint, lockAlertingConfig } from './contact-point-views.ts';

/**
 * Removes a contact point (owners and admins; audited), with its notification log. Refused with a
 * 409 naming the policy's routes while the policy routes to its name and it is the only contact point
 * of that name: the tree must never route to nothing (change the policy first).
 */
export async function deleteContactPoint(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const cp = await findContactPoint(tx, id);
    if (!cp.may_manage) throw forbidden('Only owners and admins can manage contact points');
    await lockAlertingConfig(tx, cp.project_id);
    await assertNotLastReceiver(tx, cp, 'delete');
    const deleted = await tx.query('delete from public.contact_points where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can manage contact points');
  });
}
