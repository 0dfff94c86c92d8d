import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { LOG_RETENTION_DEFAULTS, RETENTION_COLUMNS, type RetentionRow, retentionDays } from './log-retention.ts';
import type { LogRetentionDays } from './schemas.ts';

export interface LogRetentionSettings extends LogRetentionDays {
  projectId: string;
  /** False when the project keeps the defaults (it has no settings row). */
  custom: boolean;
  updatedAt: string | null;
  defaults: LogRetentionDays;
}

/** A project's settings row (visible under the caller's RLS) as effective days, defaults filled in. */
export async function readLogRetention(tx: Queryable, projectId: string): Promise<LogRetentionSettings> {
  const [row] = await tx.query<RetentionRow & { updated_at: Date | string }>(
    `select ${RETENTION_COLUMNS.join(', ')}, updated_at from public.log_retention_settings where project_id = $1`,
    [projectId],
  );
  return {
    projectId,
    custom: !!row,
    ...retentionDays(row),
    updatedAt: row ? new Date(row.updated_at).toISOString() : null,
    defaults: LOG_RETENTION_DEFAULTS,
  };
}

/** The effective log and span retention of a project the caller can see (404 otherwise). */
export async function getLogRetention(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  keyProjectId: string | undefined,
  input: { projectId?: string },
): Promise<LogRetentionSettings> {
  return withClaims(deps.db, actor, async (tx) => readLogRetention(tx, await resolveProject(tx, input.projectId, keyProjectId)));
}
