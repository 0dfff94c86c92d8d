import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { publicIdCodec } from '../db/public-ids.ts';
import type { Queryable } from '../db/types.ts';
import { findMyOrganization } from './lookup.ts';
import { type AuditLogQuery, type AuditRow, toAuditView } from './schemas.ts';

/**
 * Newest first, keyset-paginated by id. Owners and admins. audit_log ids come from one identity
 * shared by every organization, so the API shows them permuted (src/db/public-ids.ts): two entries'
 * ids say nothing about other organizations' activity in between; `before` is translated back.
 */
export async function listAuditLog(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, query: AuditLogQuery) {
  const ids = await auditIdCodec(deps.db);
  const before = query.before === undefined ? null : ids.toInternal(query.before);
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const org = await findMyOrganization(tx, orgId);
    if (org.role !== 'owner' && org.role !== 'admin') throw forbidden('Only owners and admins can read the audit log');
    return tx.query<AuditRow>(
      `select id::text as id, organization_id, actor_id, actor_type, action, target_type, target_id, details, created_at
       from public.audit_log
       where organization_id = $1 and ($2::bigint is null or audit_log.id < $2) and ($3::text is null or action = $3)
       order by audit_log.id desc limit $4`,
      [orgId, before, query.action ?? null, query.limit],
    );
  });
  const entries = rows.map((r) => toAuditView(r, ids));
  return { entries, nextBefore: entries.length === query.limit ? entries[entries.length - 1]!.id : null };
}

/** The public-id codec of audit entries. */
export const auditIdCodec = (db: Queryable) => publicIdCodec(db, 'observai audit ids v1');
