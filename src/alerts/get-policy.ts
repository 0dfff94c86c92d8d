import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';

interface PolicyRow {
  document: Record<string, unknown>;
  updated_by: string | null;
  updated_at: Date;
}

/** The project's policy document as it was sent (Alertmanager's shape), or null when it has none. */
export async function loadPolicy(tx: Queryable, projectId: string): Promise<PolicyRow | null> {
  const [row] = await tx.query<PolicyRow>('select document, updated_by, updated_at from public.notification_policies where project_id = $1', [projectId]);
  return row ?? null;
}

export const toPolicyView = (projectId: string, row: PolicyRow | null) => ({
  projectId,
  policy: row?.document ?? null,
  updatedAt: row ? new Date(row.updated_at).toISOString() : null,
  updatedBy: row?.updated_by ?? null,
});

/**
 * Where the routing tree names each receiver: `route.receiver`, `route.routes.0.receiver`, ...
 * (paths inside the policy document). Walks the stored JSON itself, so it also answers for a
 * document an older schema accepted.
 */
export function receiverPaths(document: unknown): Array<{ path: string; receiver: string }> {
  const out: Array<{ path: string; receiver: string }> = [];
  const stack: Array<{ node: unknown; path: string }> = [{ node: (document as { route?: unknown } | null)?.route, path: 'route' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    const { receiver, routes } = node as { receiver?: unknown; routes?: unknown };
    if (typeof receiver === 'string' && receiver.trim() !== '') out.push({ path: `${path}.receiver`, receiver: receiver.trim() });
    if (Array.isArray(routes)) for (let i = routes.length - 1; i >= 0; i--) stack.push({ node: routes[i], path: `${path}.routes.${i}` });
  }
  return out;
}

/** The notification policy of a project the caller may read (RLS): {policy: null} when none is set. */
export async function getPolicy(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, projectId: string | undefined) {
  return withClaims(deps.db, actor, async (tx) => {
    const id = await resolveProject(tx, projectId, keyProjectId);
    return toPolicyView(id, await loadPolicy(tx, id));
  });
}
