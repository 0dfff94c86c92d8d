import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findPolicy, requireOrgManager } from './views.ts';

/**
 * Removes a policy (owners and admins). Services that used it keep working without one (their new
 * incidents are recorded and page nobody); open incidents keep their snapshot.
 */
export async function deleteEscalationPolicy(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const policy = await findPolicy(tx, id);
    await requireOrgManager(tx, policy.organization_id);
    await tx.query('delete from public.escalation_policies where id = $1', [id]);
  });
}
