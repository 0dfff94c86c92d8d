import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import type { Queryable } from '../db/types.ts';
import { ownedOrganization } from './lookup.ts';
import { organizationPlan } from './plans.ts';
import type { PutBillingDetails } from './schemas.ts';

interface BillingRow {
  company_name: string | null;
  address: string | null;
  tax_id: string | null;
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string;
  last_invoice_id: string | null;
  last_invoice_status: string | null;
  warning_contact_point_ids: string[];
}

async function readBilling(tx: Queryable, orgId: string, billingEmail: string | null) {
  const [row] = await tx.query<BillingRow>(
    `select company_name, address, tax_id, stripe_customer_id, stripe_subscription_id, subscription_status, last_invoice_id, last_invoice_status,
       warning_contact_point_ids::text[] as warning_contact_point_ids
     from public.organization_billing where organization_id = $1`,
    [orgId],
  );
  return {
    billingEmail,
    companyName: row?.company_name ?? null,
    address: row?.address ?? null,
    taxId: row?.tax_id ?? null,
    warningContactPoints: row?.warning_contact_point_ids ?? [],
    stripe: {
      customerId: row?.stripe_customer_id ?? null,
      subscriptionId: row?.stripe_subscription_id ?? null,
      subscriptionStatus: row?.subscription_status ?? 'none',
      lastInvoice: row?.last_invoice_id ? { id: row.last_invoice_id, status: row.last_invoice_status } : null,
    },
  };
}

/** The organization's plan, billing details and Stripe state (owners only). */
export async function getBilling(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const org = await ownedOrganization(tx, orgId);
    return { organizationId: orgId, plan: await organizationPlan(tx, orgId), details: await readBilling(tx, orgId, org.billing_email) };
  });
}

/**
 * Sets billing details (owners only; what the request leaves out is kept, null clears). The billing
 * email lives on the organization (owner-only by trigger); the rest in organization_billing, written
 * as the service role on the owner's behalf. Audited by trigger (which fields changed, not values).
 */
export async function putBillingDetails(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, input: PutBillingDetails) {
  return withClaims(deps.db, actor, async (tx) => {
    await ownedOrganization(tx, orgId);
    if (input.billingEmail !== undefined) await tx.query('update public.organizations set billing_email = $2 where id = $1', [orgId, input.billingEmail]);
    const given = (v: unknown) => v !== undefined;
    const cps = input.warningContactPoints;
    if (cps !== undefined && cps.length > 0) {
      const found = new Set(
        (await tx.query<{ id: string }>('select id::text as id from public.contact_points where organization_id = $1 and id = any($2::uuid[])', [orgId, cps])).map((r) => r.id),
      );
      const missing = cps.findIndex((id) => !found.has(id));
      if (missing >= 0) throw invalid(`body.warningContactPoints.${missing}`, "is not a contact point of the organization's projects");
    }
    await asServiceRoleWithin(tx, actor, () =>
      tx.query(
        `insert into public.organization_billing (organization_id, company_name, address, tax_id, warning_contact_point_ids)
         values ($1, $3, $5, $7, coalesce($9::uuid[], '{}'))
         on conflict (organization_id) do update set
           company_name = case when $2 then excluded.company_name else public.organization_billing.company_name end,
           address = case when $4 then excluded.address else public.organization_billing.address end,
           tax_id = case when $6 then excluded.tax_id else public.organization_billing.tax_id end,
           warning_contact_point_ids = case when $8 then excluded.warning_contact_point_ids else public.organization_billing.warning_contact_point_ids end`,
        [
          orgId,
          given(input.companyName),
          input.companyName ?? null,
          given(input.address),
          input.address ?? null,
          given(input.taxId),
          input.taxId ?? null,
          given(cps),
          cps ?? null,
        ],
      ),
    );
    const org = await ownedOrganization(tx, orgId);
    return { organizationId: orgId, plan: await organizationPlan(tx, orgId), details: await readBilling(tx, orgId, org.billing_email) };
  });
}
