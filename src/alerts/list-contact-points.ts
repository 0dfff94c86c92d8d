import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { CONTACT_POINT_COLUMNS_MANAGED, type ContactPointRow, sealedParts, toContactPointView } from './contact-point-views.ts';
import { ALERT_LIMITS } from './schemas.ts';

/** Contact points of the projects the caller may read (RLS), or of one project, by name; never their secrets, URLs in full only to managers. */
export async function listContactPoints(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, projectId: string | undefined) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const id = await resolveOptionalProject(tx, projectId, keyProjectId);
    return tx.query<ContactPointRow & { may_manage: boolean }>(
      `select ${CONTACT_POINT_COLUMNS_MANAGED} from public.contact_points
       where ($1::uuid is null or project_id = $1) order by project_id, name, created_at, id limit $2`,
      [id, 5 * ALERT_LIMITS.contactPointsPerProject],
    );
  });
  const parts = await sealedParts(deps, rows.map((r) => r.id));
  return rows.map((r) => toContactPointView(r, parts.get(r.id)!, r.may_manage));
}
