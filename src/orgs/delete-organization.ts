import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';

/** Deletes the organization and everything in it. Owners only. */
export async function deleteOrganization(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    const deleted = await tx.query('delete from public.organizations where id = $1 returning id', [orgId]);
    if (deleted.length === 0) throw forbidden('Only owners can delete the organization');
  });
}
