import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findEndpoint } from './endpoint-views.ts';

/** Removes a webhook endpoint (owners and admins; audited) with its messages and attempts. */
export async function deleteEndpoint(deps: Pick<Deps, 'db'>, actor: Claims, id: string): Promise<void> {
  await withClaims(deps.db, actor, async (tx) => {
    await findEndpoint(tx, id);
    const deleted = await tx.query('delete from public.webhook_endpoints where id = $1 returning id', [id]);
    if (deleted.length === 0) throw forbidden('Only owners and admins can manage webhook endpoints');
  });
}
