import type { Deps } from '../core/deps.ts';
import { forbidden, sqlState } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findDestination } from './find-destination.ts';
import { type PutSchedule, SCHEDULE_COLUMNS, type ScheduleRow, toScheduleView } from './schemas.ts';
import { requireEncryptionKey } from '../core/secret-box.ts';

/**
 * Creates or changes the daily export of one signal to one destination (owners and admins; audited).
 * The export-telemetry job then creates one run per completed UTC day from startDay (default
 * yesterday). startDay is kept from creation: changing it would re-export or skip days.
 */
export async function putSchedule(deps: Pick<Deps, 'db' | 'clock' | 'config'>, actor: Claims, keyProjectId: string | undefined, input: PutSchedule) {
  requireEncryptionKey(deps.config);
  const yesterday = new Date(deps.clock.now().getTime() - 86_400_000).toISOString().slice(0, 10);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const dest = await findDestination(tx, input.destinationId, input.projectId ?? keyProjectId);
    try {
      const [saved] = await tx.query<ScheduleRow>(
        `insert into public.export_schedules (project_id, organization_id, destination_id, signal, filter, rows_per_file, enabled, start_day)
         values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8::date)
         on conflict (project_id, destination_id, signal)
         do update set filter = excluded.filter, rows_per_file = excluded.rows_per_file, enabled = excluded.enabled
         returning ${SCHEDULE_COLUMNS}`,
        [dest.project_id, dest.organization_id, dest.id, input.signal, JSON.stringify(input.filter), input.rowsPerFile, input.enabled, input.startDay ?? yesterday],
      );
      return saved!;
    } catch (err) {
      if (sqlState(err) === '42501') throw forbidden('Only owners and admins can schedule exports');
      throw err;
    }
  });
  return toScheduleView(row);
}
