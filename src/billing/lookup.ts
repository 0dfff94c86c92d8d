import { forbidden } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { findMyOrganization } from '../orgs/lookup.ts';

/** The organization when the caller owns it: 404 when they cannot see it, 403 when they can but are not an owner. */
export async function ownedOrganization(tx: Queryable, orgId: string) {
  const org = await findMyOrganization(tx, orgId);
  if (org.role !== 'owner') throw forbidden('Only owners can see or change billing');
  return org;
}
