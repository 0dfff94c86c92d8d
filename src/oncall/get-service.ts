import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findService, toServiceView } from './views.ts';

/** One service the caller may read (RLS), or 404; never its routing key. */
export async function getService(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toServiceView(await withClaims(deps.db, actor, (tx) => findService(tx, id)));
}
