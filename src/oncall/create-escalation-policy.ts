import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { checkTargets, policyTargets } from './policy-targets.ts';
import { type CreatePolicy, ONCALL_LIMITS } from './schemas.ts';
import { POLICY_COLUMNS, type PolicyRow, requireOrgManager, toPolicyView } from './views.ts';

/**
 * Adds an escalation policy to an organization (its owners and admins; RLS checks it again; audited
 * by trigger). The document is escalation.ts' EscalationPolicy, validated by the route, and its
 * targets must be the organization's (policy-targets.ts): users hold
 * no grant to write one (the escalation job trusts what it snapshots), so the insert is the service
 * role's, on the caller's behalf, once their claims authorized it.
 */
export async function createEscalationPolicy(deps: Pick<Deps, 'db'>, actor: Claims, input: CreatePolicy) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    await requireOrgManager(tx, input.organizationId);
    await checkTargets(tx, { organizationId: input.organizationId }, policyTargets(input.policy, 'body.policy'));
    await tx.query(`select pg_advisory_xact_lock(hashtext('observai.escalation_policies:' || $1::text))`, [input.organizationId]);
    const [count] = await tx.query<{ n: number }>('select count(*)::int as n from public.escalation_policies where organization_id = $1', [input.organizationId]);
    if (count!.n >= ONCALL_LIMITS.policiesPerOrganization) throw invalid('body', `the organization already has ${ONCALL_LIMITS.policiesPerOrganization} escalation policies (the limit)`);
    const [inserted] = await asServiceRoleWithin(tx, actor, () =>
      tx.query<PolicyRow>(
        `insert into public.escalation_policies (organization_id, name, document) values ($1, $2, $3::text::jsonb) returning ${POLICY_COLUMNS}`,
        [input.organizationId, input.name, JSON.stringify(input.policy)],
      ),
    );
    return inserted!;
  });
  return toPolicyView(row);
}
