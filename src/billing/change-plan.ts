import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { ownedOrganization } from './lookup.ts';
import { assertPlanFits } from './plan-limits.ts';
import { findPlan, type PlanView, subscriptionPrices } from './plans.ts';
import { type StripeClient, stripeClient } from './stripe/client.ts';
import { syncSubscription } from './stripe/plan-subscription.ts';

/**
 * Moves the organization to another plan, inside the caller's transaction: the plan must be one they
 * can see (404), the caller an owner (403; the billing trigger says so too), and the organization
 * must fit the plan's limits (409 naming what must change first). Users hold no grant on the
 * column: the update is the service role's on the owner's behalf, audited by trigger under their id.
 *
 * `stripe`: the client when Stripe is configured (the plan commits only after Stripe made the
 * customer and subscription, or cancelled it), null when it is not (the plan alone). Left out by
 * callers that cannot reach Stripe (the orgs function's PATCH): a change into or out of a plan
 * billed through Stripe is then refused (409) in favour of PUT /billing/{orgId}/plan.
 */
export async function applyPlanChange(tx: Queryable, actor: Claims, orgId: string, planId: string, stripe?: StripeClient | null): Promise<PlanView> {
  const org = await ownedOrganization(tx, orgId);
  const plan = await findPlan(tx, planId);
  // Serialises plan changes of one organization (two owners at once), Stripe's calls included.
  const [locked] = await tx.query<{ plan: string }>('select plan from public.organizations where id = $1 for update', [orgId]);
  const current = locked!.plan;
  await assertPlanFits(tx, actor, orgId, plan);
  if (stripe === undefined && current !== planId) {
    const before = await asServiceRoleWithin(tx, actor, () => findPlan(tx, current));
    if (subscriptionPrices(plan).length > 0 || subscriptionPrices(before).length > 0) {
      throw new AppError('CONFLICT', `A change to or from a plan billed through Stripe goes through PUT /billing/${orgId}/plan`);
    }
  }
  if (stripe) await syncSubscription(tx, actor, stripe, { id: orgId, name: org.name, billingEmail: org.billing_email }, current, plan);
  await asServiceRoleWithin(tx, actor, () => tx.query('update public.organizations set plan = $2 where id = $1 and plan is distinct from $2', [orgId, planId]));
  return plan;
}

export async function changePlan(deps: Pick<Deps, 'db' | 'config' | 'outbound'>, actor: Claims, orgId: string, planId: string) {
  const stripe = deps.config.billing.stripe ? stripeClient(deps.config.billing.stripe, deps.outbound) : null;
  return withClaims(deps.db, actor, (tx) => applyPlanChange(tx, actor, orgId, planId, stripe));
}
