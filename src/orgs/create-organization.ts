import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { CreateOrganization, OrganizationRow } from './schemas.ts';
import { toOrganizationView } from './schemas.ts';

/** Creates an organization with the caller as owner (one RPC: both rows or neither). */
export async function createOrganization(deps: Pick<Deps, 'db'>, actor: Claims, input: CreateOrganization) {
  const [row] = await withClaims(deps.db, actor, (tx) =>
    tx.query<Omit<OrganizationRow, 'role'>>('select id, name, slug, plan, billing_email, created_at from private.create_organization($1, $2)', [
      input.name,
      input.slug,
    ]),
  );
  return toOrganizationView({ ...row!, role: 'owner' });
}
