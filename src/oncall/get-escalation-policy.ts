import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findPolicy, toPolicyView } from './views.ts';

/** One escalation policy of an organization the caller belongs to, or 404. */
export async function getEscalationPolicy(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return toPolicyView(await withClaims(deps.db, actor, (tx) => findPolicy(tx, id)));
}
