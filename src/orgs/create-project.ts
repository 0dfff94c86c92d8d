import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { type CreateProject, PROJECT_COLUMNS, type ProjectRow, toProjectView } from './schemas.ts';

/** Owners and admins create projects (RLS refuses the rest with 403). */
export async function createProject(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, input: CreateProject) {
  const [row] = await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    return tx.query<ProjectRow>(`insert into public.projects (organization_id, name, slug) values ($1, $2, $3) returning ${PROJECT_COLUMNS}`, [
      orgId,
      input.name,
      input.slug,
    ]);
  });
  return toProjectView(row!);
}
