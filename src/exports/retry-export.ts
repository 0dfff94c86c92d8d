import type { Deps } from '../core/deps.ts';
import { AppError, forbidden, notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { kickExports } from './export-telemetry.ts';
import { RUN_COLUMNS, type RunRow, toRunView } from './schemas.ts';
import { requireEncryptionKey } from '../core/secret-box.ts';

/**
 * Puts a failed run back in the queue; it resumes from its progress cursor (the parts already written
 * are not written again). Whatever attempts it used, a retry asked for by a person always runs.
 */
export async function retryExport(deps: Deps, actor: Claims, id: string) {
  requireEncryptionKey(deps.config);
  const row = await withClaims(deps.db, actor, async (tx) => {
    const [run] = await tx.query<{ status: string }>('select status from public.export_runs where id = $1', [id]);
    if (!run) throw notFound('Export');
    if (run.status !== 'failed') throw new AppError('CONFLICT', `Only a failed export can be retried; this one is ${run.status}`);
    const [updated] = await tx.query<RunRow>(
      `update public.export_runs set status = 'queued' where id = $1 and status = 'failed' returning ${RUN_COLUMNS}`,
      [id],
    );
    if (!updated) throw forbidden('Only owners, admins and members assigned to the project can retry exports');
    return updated;
  });
  kickExports(deps);
  return toRunView(row);
}
