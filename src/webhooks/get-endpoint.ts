import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findEndpoint, toEndpointView } from './endpoint-views.ts';

/** One webhook endpoint the caller may manage (RLS), or 404; never its secret. */
export async function getEndpoint(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string) {
  const row = await withClaims(deps.db, actor, (tx) => findEndpoint(tx, id));
  return toEndpointView(row, deps.clock.now());
}
