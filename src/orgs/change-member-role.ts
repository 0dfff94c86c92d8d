import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import type { MemberRow, Role } from './schemas.ts';
import { toMemberView } from './schemas.ts';

/**
 * Owners change any role; admins change roles among admin, member and viewer. The last owner
 * cannot step down (a trigger keeps one). Audited by trigger.
 */
export async function changeMemberRole(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, userId: string, role: Role) {
  return withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    const [existing] = await tx.query('select 1 from public.organization_members where organization_id = $1 and user_id = $2', [orgId, userId]);
    if (!existing) throw notFound('Member');
    const [row] = await tx.query<MemberRow>(
      `with changed as (
         update public.organization_members set role = $3 where organization_id = $1 and user_id = $2
         returning user_id, role, created_at
       )
       select c.user_id, c.role, p.email, p.display_name, c.created_at from changed c left join public.profiles p on p.id = c.user_id`,
      [orgId, userId, role],
    );
    if (!row) throw forbidden('Your role cannot change this member');
    return toMemberView(row);
  });
}
