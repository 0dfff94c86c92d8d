import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';
import { type MemberRow, toMemberView } from './schemas.ts';

/** Members assigned to a project (their organization role included). */
export async function listProjectMembers(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    await findVisibleProject(tx, orgId, projectId);
    return tx.query<MemberRow>(
      `select pm.user_id, m.role, p.email, p.display_name, pm.created_at
       from public.project_members pm
       join public.organization_members m on m.organization_id = pm.organization_id and m.user_id = pm.user_id
       left join public.profiles p on p.id = pm.user_id
       where pm.project_id = $1
       order by pm.created_at, pm.user_id`,
      [projectId],
    );
  });
  return rows.map(toMemberView);
}
