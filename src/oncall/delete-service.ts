import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findService, requireOrgManager } from './views.ts';

/**
 * Removes a service (owners and admins), its incidents and their timelines with it; its routing key
 * stops working at once. 404 when the caller cannot see it, 403 when they may see but not manage it.
 */
export async function deleteService(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    const service = await findService(tx, id);
    await requireOrgManager(tx, service.organization_id);
    await tx.query('delete from public.oncall_services where id = $1', [id]);
  });
}
