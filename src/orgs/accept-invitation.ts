import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { type Role, toMemberView } from './schemas.ts';

/** Joins the caller to the organization that invited their email address. */
export async function acceptInvitation(deps: Pick<Deps, 'db'>, actor: Claims, token: string) {
  const [row] = await withClaims(deps.db, actor, (tx) =>
    tx.query<{ organization_id: string; user_id: string; role: Role; created_at: Date }>(
      'select organization_id, user_id, role, created_at from private.accept_invitation($1)',
      [token],
    ),
  );
  return { organizationId: row!.organization_id, member: toMemberView({ ...row!, email: null, display_name: null }) };
}
