import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';

/** Assigns an organization member to a project (idempotent). Owners and admins. */
export async function assignProjectMember(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string, userId: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findVisibleProject(tx, orgId, projectId);
    const [member] = await tx.query('select 1 from public.organization_members where organization_id = $1 and user_id = $2', [orgId, userId]);
    if (!member) {
      throw new AppError('VALIDATION_FAILED', 'The user is not a member of this organization', {
        details: [{ field: 'path.userId', message: 'not a member of this organization' }],
      });
    }
    await tx.query(
      `insert into public.project_members (project_id, organization_id, user_id) values ($1, $2, $3) on conflict (project_id, user_id) do nothing`,
      [projectId, orgId, userId],
    );
  });
}
