import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { type MemberRow, toMemberView } from './schemas.ts';

export async function listMembers(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    return tx.query<MemberRow>(
      `select m.user_id, m.role, p.email, p.display_name, m.created_at
       from public.organization_members m
       left join public.profiles p on p.id = m.user_id
       where m.organization_id = $1
       order by m.created_at, m.user_id`,
      [orgId],
    );
  });
  return rows.map(toMemberView);
}
