import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { type ListExportsQuery, RUN_COLUMNS, type RunRow, toRunView } from './schemas.ts';

/** Export runs of the projects the caller may read (RLS), newest first. */
export async function listExports(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: ListExportsQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveOptionalProject(tx, query.projectId, keyProjectId);
    return tx.query<RunRow>(
      `select ${RUN_COLUMNS} from public.export_runs
       where ($1::uuid is null or project_id = $1) and ($2::text is null or status = $2) and ($3::text is null or signal = $3)
         and ($4::uuid is null or destination_id = $4)
       order by created_at desc, id limit $5`,
      [projectId, query.status ?? null, query.signal ?? null, query.destinationId ?? null, query.limit],
    );
  });
  return rows.map(toRunView);
}

export async function getExport(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  const [row] = await withClaims(deps.db, actor, (tx) => tx.query<RunRow>(`select ${RUN_COLUMNS} from public.export_runs where id = $1`, [id]));
  if (!row) throw notFound('Export');
  return toRunView(row);
}
