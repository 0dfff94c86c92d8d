import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';
import { PROJECT_COLUMNS, type ProjectRow, toProjectView, type UpdateProject } from './schemas.ts';

/** Owners, admins and members assigned to the project may rename it. */
export async function updateProject(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string, input: UpdateProject) {
  return withClaims(deps.db, actor, async (tx) => {
    await findVisibleProject(tx, orgId, projectId);
    const [row] = await tx.query<ProjectRow>(`update public.projects set name = $2 where id = $1 returning ${PROJECT_COLUMNS}`, [projectId, input.name]);
    if (!row) throw forbidden('Your role cannot change this project');
    return toProjectView(row);
  });
}
