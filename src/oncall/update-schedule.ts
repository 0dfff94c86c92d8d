import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { UpdateSchedule } from './schedule-requests.ts';
import { editDocument, findSchedule, requireScheduleManager, SCHEDULE_COLUMNS, type ScheduleRow, toScheduleView } from './schedule-store.ts';

const stale = () => new AppError('CONFLICT', 'The schedule changed since the version sent; read it again and retry');

/**
 * Renames a schedule or replaces its document (owners and admins). A document without `overrides`
 * keeps the stored ones (as they are when the write lands: an override added meanwhile is kept);
 * with `version`, the edit applies only to that version (else 409). An edit of a rotation is a new
 * layer version: the document's history is the caller's to keep (docs/oncall.md).
 */
export async function updateSchedule(deps: Pick<Deps, 'db'>, actor: Claims, id: string, input: UpdateSchedule) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const current = await findSchedule(tx, id);
    await requireScheduleManager(tx, current.organization_id);
    if (input.version !== undefined && current.version !== input.version) throw stale();
    let row: ScheduleRow = current;
    if (input.schedule) {
      const sent = input.schedule.input;
      row = await editDocument(
        tx,
        actor,
        id,
        async (now) => {
          if (input.version !== undefined && now.version !== input.version) throw stale();
          return 'overrides' in sent ? sent : { ...sent, overrides: now.document.overrides ?? [] };
        },
        (path) => `body.schedule.${path}`,
      );
    }
    if (input.name !== undefined && input.name !== row.name) {
      // A rename is the caller's own (they hold the grant): no version bump, as through the Data API.
      const [renamed] = await tx.query<ScheduleRow>(`update public.oncall_schedules set name = $2 where id = $1 returning ${SCHEDULE_COLUMNS}`, [id, input.name]);
      row = renamed!;
    }
    return row;
  });
  return toScheduleView(row);
}
