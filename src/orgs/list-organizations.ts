import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { type OrganizationRow, toOrganizationView } from './schemas.ts';

/** The organizations the caller belongs to, with their role in each. */
export async function listOrganizations(deps: Pick<Deps, 'db'>, actor: Claims) {
  const rows = await withClaims(deps.db, actor, (tx) =>
    tx.query<OrganizationRow>(
      `select o.id, o.name, o.slug, o.plan, o.billing_email, o.created_at, m.role
       from public.organizations o
       join public.organization_members m on m.organization_id = o.id and m.user_id = (select auth.uid())
       order by o.name, o.id`,
    ),
  );
  return rows.map(toOrganizationView);
}
