import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findMyOrganization } from './lookup.ts';
import { toOrganizationView } from './schemas.ts';

export async function getOrganization(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string) {
  return toOrganizationView(await withClaims(deps.db, actor, (tx) => findMyOrganization(tx, orgId)));
}
