import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';

/** Removes a member (or lets a member leave). Their project assignments go with them. */
export async function removeMember(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, userId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    const [existing] = await tx.query('select 1 from public.organization_members where organization_id = $1 and user_id = $2', [orgId, userId]);
    if (!existing) throw notFound('Member');
    const deleted = await tx.query('delete from public.organization_members where organization_id = $1 and user_id = $2 returning user_id', [
      orgId,
      userId,
    ]);
    if (deleted.length === 0) throw forbidden('Your role cannot remove this member');
  });
}
