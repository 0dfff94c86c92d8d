import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';

/** Deletes a project with its keys and data. Owners and admins; audited by trigger. */
export async function deleteProject(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findVisibleProject(tx, orgId, projectId);
    const deleted = await tx.query('delete from public.projects where id = $1 returning id', [projectId]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can delete projects');
  });
}
