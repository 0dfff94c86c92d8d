import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { sha256Hex } from '../core/ids.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { type CreateInvitation, INVITATION_COLUMNS, type InvitationRow, toInvitationView } from './schemas.ts';

/**
 * Invites someone by email. The token is returned once (to hand to the invitee); only its hash is
 * stored. Owners may invite any role, admins any role but owner (RLS).
 */
export async function createInvitation(deps: Pick<Deps, 'db' | 'clock' | 'ids'>, actor: Claims, orgId: string, input: CreateInvitation) {
  const now = deps.clock.now();
  const token = `oai_inv_${deps.ids.token(40)}`;
  const tokenHash = await sha256Hex(token);
  const expiresAt = new Date(now.getTime() + input.expiresInDays * 86_400_000);
  return withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    if (input.projectIds.length > 0) {
      const found = await tx.query<{ id: string }>('select id from public.projects where organization_id = $1 and id = any($2::uuid[])', [
        orgId,
        input.projectIds,
      ]);
      const missing = input.projectIds.filter((id) => !found.some((f) => f.id === id));
      if (missing.length > 0) {
        throw new AppError('VALIDATION_FAILED', 'projectIds names projects that are not in this organization', {
          details: missing.map((id) => ({ field: `body.projectIds.${input.projectIds.indexOf(id)}`, message: `project ${id} not found` })),
        });
      }
    }
    const [row] = await tx.query<InvitationRow>(
      // invited_by is the inserting user, set by its column default (auth.uid()): not a value we pass.
      `insert into public.invitations (organization_id, email, role, project_ids, token_hash, expires_at)
       values ($1, lower($2), $3, $4, $5, $6) returning ${INVITATION_COLUMNS}`,
      [orgId, input.email, input.role, input.projectIds, tokenHash, expiresAt],
    );
    return { invitation: toInvitationView(row!, now), token };
  });
}
