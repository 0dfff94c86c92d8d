import { notFound } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';

/**
 * The destination a schedule or an export names, read under the caller's claims (RLS): 404 when it is
 * invisible, or belongs to another project than the one asked about (or the API key's own).
 */
export async function findDestination(tx: Queryable, destinationId: string, projectId: string | undefined) {
  const [dest] = await tx.query<{ id: string; project_id: string; organization_id: string }>(
    'select id, project_id, organization_id from public.export_destinations where id = $1',
    [destinationId],
  );
  if (!dest || (projectId && projectId !== dest.project_id)) throw notFound('Export destination');
  return dest;
}
