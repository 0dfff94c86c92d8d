import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveOptionalProject } from '../orgs/lookup.ts';
import { type ProjectQuery, SCHEDULE_COLUMNS, type ScheduleRow, toScheduleView } from './schemas.ts';

/** Export schedules of the projects the caller may read (RLS), or of one project. */
export async function listSchedules(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: ProjectQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveOptionalProject(tx, query.projectId, keyProjectId);
    return tx.query<ScheduleRow>(
      `select ${SCHEDULE_COLUMNS} from public.export_schedules where ($1::uuid is null or project_id = $1) order by created_at, id limit 500`,
      [projectId],
    );
  });
  return rows.map(toScheduleView);
}
