import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { DESTINATION_COLUMNS, type DestinationRow, type ProjectQuery, toDestinationView } from './schemas.ts';

/** Destinations of the projects the caller may read (RLS), or of one project; never their secrets. */
export async function listDestinations(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: ProjectQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveOptionalProject(tx, query.projectId, keyProjectId);
    return tx.query<DestinationRow>(
      `select ${DESTINATION_COLUMNS} from public.export_destinations
       where ($1::uuid is null or project_id = $1) order by created_at desc, id limit 500`,
      [projectId],
    );
  });
  return rows.map(toDestinationView);
}

export async function getDestination(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  const [row] = await withClaims(deps.db, actor, (tx) =>
    tx.query<DestinationRow>(`select ${DESTINATION_COLUMNS} from public.export_destinations where id = $1`, [id]),
  );
  if (!row) throw notFound('Export destination');
  return toDestinationView(row);
}
