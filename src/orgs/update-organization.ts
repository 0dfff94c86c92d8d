import { applyPlanChange } from '../billing/change-plan.ts';
import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { type OrganizationRow, toOrganizationView, type UpdateOrganization } from './schemas.ts';

/** Owners and admins rename; only owners touch billing (enforced by a trigger as well as here; the plan through billing's check). */
export async function updateOrganization(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, input: UpdateOrganization) {
  return withClaims(deps.db, actor, async (tx) => {
    const org = await findMyOrganization(tx, orgId);
    // A plan change is billing's: owners only, and only to a plan the organization fits (409 otherwise).
    if (input.plan !== undefined) await applyPlanChange(tx, actor, orgId, input.plan);
    const [row] = await tx.query<Omit<OrganizationRow, 'role'>>(
      `update public.organizations set
         name = coalesce($2, name),
         billing_email = case when $3 then $4 else billing_email end
       where id = $1
       returning id, name, slug, plan, billing_email, created_at`,
      [orgId, input.name ?? null, input.billingEmail !== undefined, input.billingEmail ?? null],
    );
    if (!row) throw forbidden('Only owners and admins can change the organization');
    return toOrganizationView({ ...row, role: org.role });
  });
}
