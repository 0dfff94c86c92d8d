import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findVisibleProject } from './lookup.ts';
import { toProjectView } from './schemas.ts';

export async function getProject(deps: Pick<Deps, 'db'>, actor: Claims, orgId: string, projectId: string) {
  return toProjectView(await withClaims(deps.db, actor, (tx) => findVisibleProject(tx, orgId, projectId)));
}
