import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { INVITATION_COLUMNS, type InvitationRow, toInvitationView } from './schemas.ts';

/** Invitations of an organization; empty for roles that may not see them (RLS). */
export async function listInvitations(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, orgId: string) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    await findMyOrganization(tx, orgId);
    return tx.query<InvitationRow>(
      `select ${INVITATION_COLUMNS} from public.invitations where organization_id = $1 order by created_at desc, id limit 500`,
      [orgId],
    );
  });
  const now = deps.clock.now();
  return rows.map((r) => toInvitationView(r, now));
}
