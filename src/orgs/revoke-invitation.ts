import type { Deps } from '../core/deps.ts';
import { AppError, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { INVITATION_COLUMNS, type InvitationRow, toInvitationView } from './schemas.ts';

export async function revokeInvitation(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, orgId: string, invitationId: string) {
  const now = deps.clock.now();
  const row = await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    const [existing] = await tx.query<InvitationRow>(
      `select ${INVITATION_COLUMNS} from public.invitations where id = $1 and organization_id = $2`,
      [invitationId, orgId],
    );
    // Members and viewers cannot see invitations at all, so for them it does not exist.
    if (!existing) throw notFound('Invitation');
    if (existing.accepted_at) throw new AppError('CONFLICT', 'The invitation has already been accepted');
    if (existing.revoked_at) return existing;
    const [updated] = await tx.query<InvitationRow>(
      `update public.invitations set revoked_at = $2 where id = $1 returning ${INVITATION_COLUMNS}`,
      [invitationId, now],
    );
    return updated!;
  });
  return toInvitationView(row, now);
}
