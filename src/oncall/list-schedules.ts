import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { SCHEDULE_COLUMNS, type ScheduleRow, toScheduleView } from './schedule-store.ts';

/** An organization's on-call schedules (every member reads them), by name. */
export async function listSchedules(deps: Pick<Deps, 'db'>, actor: Claims, organizationId: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const [org] = await tx.query('select 1 from public.organizations where id = $1', [organizationId]);
    if (!org) throw notFound('Organization');
    const rows = await tx.query<ScheduleRow>(`select ${SCHEDULE_COLUMNS} from public.oncall_schedules where organization_id = $1 order by name, id`, [organizationId]);
    return rows.map(toScheduleView);
  });
}
