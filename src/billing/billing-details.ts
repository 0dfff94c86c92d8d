import type { Deps } from '../core/deps.ts';
import { asServiceRoleWithin, type Claims, withClaims } from '../db/scoped.ts';
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
}

async function readBilling(tx: Queryable, orgId: string, billingEmail: string | null) {
  const [row] = await tx.query<BillingRow>(
    `select company_name, address, tax_id, stripe_customer_id, stripe_subscription_id, subscription_status, last_invoice_id, last_invoice_status
     from public.organization_billing where organization_id = $1`,
    [orgId],
  );
  return {
    billingEmail,
    companyName: row?.company_name ?? null,
    address: row?.address ?? null,
    taxId: row?.tax_id ?? null,
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
    const given = (v: string | null | undefined) => v !== undefined;
    await asServiceRoleWithin(tx, actor, () =>
      tx.query(
        `insert into public.organization_billing (organization_id, company_name, address, tax_id) values ($1, $3, $5, $7)
         on conflict (organization_id) do update set
           company_name = case when $2 then excluded.company_name else public.organization_billing.company_name end,
           address = case when $4 then excluded.address else public.organization_billing.address end,
           tax_id = case when $6 then excluded.tax_id else public.organization_billing.tax_id end`,
        [orgId, given(input.companyName), input.companyName ?? null, given(input.address), input.address ?? null, given(input.taxId), input.taxId ?? null],
      ),
    );
    const org = await ownedOrganization(tx, orgId);
    return { organizationId: orgId, plan: await organizationPlan(tx, orgId), details: await readBilling(tx, orgId, org.billing_email) };
  });
}
