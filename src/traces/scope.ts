import { AppError } from '../core/errors.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';

/**
 * Which project a read by trace id looks in: the one named (404 when the caller cannot see it), or
 * none (undefined), leaving it to RLS: an API key sees only its own project, a user every project
 * they may read, so a trace whose services report to several projects is returned whole.
 */
export async function traceScope(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined): Promise<string | undefined> {
  if (projectId === undefined) return undefined;
  return resolveProject(tx, projectId, keyProjectId);
}

/** Search and statistics read one project: the one named, or the API key's own. */
export async function requireProject(tx: Queryable, projectId: string | undefined, keyProjectId: string | undefined): Promise<string> {
  if (projectId === undefined && keyProjectId === undefined) {
    const message = 'is required with a user token';
    throw new AppError('VALIDATION_FAILED', `query.projectId: ${message}`, { details: [{ field: 'query.projectId', message }] });
  }
  return resolveProject(tx, projectId, keyProjectId);
}
