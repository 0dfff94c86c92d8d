import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';

export async function unassignProjectMember(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string, userId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findVisibleProject(tx, orgId, projectId);
    const [existing] = await tx.query('select 1 from public.project_members where project_id = $1 and user_id = $2', [projectId, userId]);
    if (!existing) throw notFound('Assignment');
    const deleted = await tx.query('delete from public.project_members where project_id = $1 and user_id = $2 returning user_id', [projectId, userId]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can change project assignments');
  });
}
