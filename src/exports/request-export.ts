import type { Deps } from '../core/deps.ts';
import { AppError, forbidden, sqlState } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { findDestination } from './find-destination.ts';
import { kickExports } from './export-telemetry.ts';
import { RUN_COLUMNS, type RequestExport, type RunRow, toRunView } from './schemas.ts';
import { requireEncryptionKey } from '../core/secret-box.ts';

/**
 * Queues an export run of one signal over [from, to) to a destination of the project, and kicks the
 * export job in the background; the HTTP call never waits for the export. Owners, admins and members
 * assigned to the project may request one (RLS); the request is audited.
 */
export async function requestExport(deps: Deps, actor: Claims, keyProjectId: string | undefined, input: RequestExport) {
  requireEncryptionKey(deps.config);
  if (input.to.getTime() > deps.clock.now().getTime()) {
    // Rows for the future have not arrived yet; the run would miss them silently.
    const message = 'must not be in the future';
    throw new AppError('VALIDATION_FAILED', `body.to: ${message}`, { details: [{ field: 'body.to', message }] });
  }
  const row = await withClaims(deps.db, actor, async (tx) => {
    const dest = await findDestination(tx, input.destinationId, input.projectId ?? keyProjectId);
    try {
      const [run] = await tx.query<RunRow>(
        `insert into public.export_runs (project_id, organization_id, destination_id, signal, from_time, to_time, filter, rows_per_file)
         values ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)
         returning ${RUN_COLUMNS}`,
        [dest.project_id, dest.organization_id, dest.id, input.signal, input.from, input.to, JSON.stringify(input.filter), input.rowsPerFile],
      );
      return run!;
    } catch (err) {
      if (sqlState(err) === '42501') throw forbidden('Only owners, admins and members assigned to the project can request exports');
      throw err;
    }
  });
  kickExports(deps);
  return toRunView(row);
}
