import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { ENDPOINT_COLUMNS, type EndpointRow, managedOrganization, managedProject, toEndpointView } from './endpoint-views.ts';
import { type EndpointsQuery, WEBHOOK_LIMITS } from './schemas.ts';

/**
 * Webhook endpoints the caller may see (RLS: owners and admins, an admin key its project's), of one
 * project (`projectId`, or an API key's own project by default), of one organization
 * (`organizationId`: its organization endpoints and its projects'), or every visible one; never a
 * secret. Naming a project or organization the caller may see but not manage is a 403; without
 * either, a viewer or member gets an empty list.
 */
export async function listEndpoints(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, q: EndpointsQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    // A named project or organization must be the caller's to manage (403 for its members and viewers).
    const projectId = q.projectId || (keyProjectId && !q.organizationId) ? (await managedProject(tx, await resolveProject(tx, q.projectId, keyProjectId))).id : null;
    if (q.organizationId) await managedOrganization(tx, actor, q.organizationId);
    return tx.query<EndpointRow>(
      `select ${ENDPOINT_COLUMNS} from public.webhook_endpoints
       where ($1::uuid is null or project_id = $1) and ($2::uuid is null or organization_id = $2)
       order by organization_id, project_id nulls first, created_at, id limit $3`,
      [projectId, q.organizationId ?? null, WEBHOOK_LIMITS.endpointsListed],
    );
  });
  const now = deps.clock.now();
  return rows.map((r) => toEndpointView(r, now));
}
