import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { ownedOrganization } from './lookup.ts';
import { assertPlanFits } from './plan-limits.ts';
import { findPlan, type PlanView } from './plans.ts';

/**
 * Moves the organization to another plan, inside the caller's transaction: the plan must be one they
 * can see (404), the caller an owner (403; the billing trigger says so too), and the organization
 * must fit the plan's limits (409 naming what must change first). Users hold no grant on the
 * column: the update is the service role's on the owner's behalf, audited by trigger under their id.
 * The orgs function's PATCH calls this too.
 */
export async function applyPlanChange(tx: Queryable, actor: Claims, orgId: string, planId: string): Promise<PlanView> {
  await ownedOrganization(tx, orgId);
  const plan = await findPlan(tx, planId);
  // Serialises plan changes of one organization (two owners at once).
  await tx.query('select 1 from public.organizations where id = $1 for update', [orgId]);
  await assertPlanFits(tx, actor, orgId, plan);
  await asServiceRoleWithin(tx, actor, () => tx.query('update public.organizations set plan = $2 where id = $1 and plan is distinct from $2', [orgId, planId]));
  return plan;
}

export async function changePlan(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, planId: string) {
  return withClaims(deps.db, actor, (tx) => applyPlanChange(tx, actor, orgId, planId));
}
