import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findContactPoint, sealedParts, toContactPointView } from './contact-point-views.ts';

/** One contact point the caller may read (RLS), or 404; never its secret, its URLs in full only to managers. */
export async function getContactPoint(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  const row = await withClaims(deps.db, actor, (tx) => findContactPoint(tx, id));
  return toContactPointView(row, (await sealedParts(deps, [row.id])).get(row.id)!, row.may_manage);
}
