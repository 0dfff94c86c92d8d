import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { checkTargets, policyTargets } from './policy-targets.ts';
import type { UpdatePolicy } from './schemas.ts';
import { findPolicy, POLICY_COLUMNS, type PolicyRow, requireOrgManager, toPolicyView } from './views.ts';

/**
 * Renames or replaces a policy (owners and admins). Incidents already open keep the snapshot they
 * opened with: a change applies to incidents opened after it. The document was validated by the
 * route and users hold no grant to write one, so the update is the service role's, after the
 * caller's claims authorized it.
 */
export async function updateEscalationPolicy(deps: Pick<Deps, 'db'>, actor: Claims, id: string, input: UpdatePolicy) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const current = await findPolicy(tx, id);
    await requireOrgManager(tx, current.organization_id);
    if (input.policy) await checkTargets(tx, { organizationId: current.organization_id }, policyTargets(input.policy, 'body.policy'));
    const [updated] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<PolicyRow>(
        `update public.escalation_policies set name = coalesce($2, name), document = coalesce($3::text::jsonb, document) where id = $1 returning ${POLICY_COLUMNS}`,
        [id, input.name ?? null, input.policy === undefined ? null : JSON.stringify(input.policy)],
      ),
    );
    return updated!;
  });
  return toPolicyView(row);
}
