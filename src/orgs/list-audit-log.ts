import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { type AuditLogQuery, type AuditRow, toAuditView } from './schemas.ts';

/** Newest first, keyset-paginated by id. Owners and admins. */
export async function listAuditLog(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, query: AuditLogQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const org = await findMyOrganization(tx, orgId);
    if (org.role !== 'owner' && org.role !== 'admin') throw forbidden('Only owners and admins can read the audit log');
    return tx.query<AuditRow>(
      `select id, organization_id, actor_id, actor_type, action, target_type, target_id, details, created_at
       from public.audit_log
       where organization_id = $1 and ($2::bigint is null or id < $2) and ($3::text is null or action = $3)
       order by id desc limit $4`,
      [orgId, query.before ?? null, query.action ?? null, query.limit],
    );
  });
  const entries = rows.map(toAuditView);
  return { entries, nextBefore: entries.length === query.limit ? entries[entries.length - 1]!.id : null };
}
