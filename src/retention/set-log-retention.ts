import { assertRetentionWithinPlan } from '../billing/plan-limits.ts';
import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { type LogRetentionSettings, readLogRetention } from './get-log-retention.ts';
import { LOG_RETENTION_DEFAULTS } from './log-retention.ts';
import { LOG_LEVELS, type PutLogRetention } from './schemas.ts';

/**
 * Owners and admins set some or all of a project's retention (RLS refuses everyone else: 403); what
 * the request leaves out keeps its current value, or the default. Audited by trigger. The next
 * cleanup-retention run applies it.
 */
export async function setLogRetention(deps: Pick<Deps, 'db'>, actor: Claims, input: PutLogRetention): Promise<LogRetentionSettings> {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined, 'body.projectId');
    const [project] = await tx.query<{ organization_id: string }>('select organization_id from public.projects where id = $1', [projectId]);
    // No setting may keep data longer than the organization's plan allows.
    await assertRetentionWithinPlan(tx, actor, project!.organization_id, [
      ...LOG_LEVELS.map((l) => ({ field: `body.levels.${l}`, days: input.levels?.[l] })),
      { field: 'body.spans', days: input.spans },
    ]);
    const columns = [...LOG_LEVELS.map((l) => `${l}_days`), 'span_days'];
    const given = [...LOG_LEVELS.map((l) => input.levels?.[l] ?? null), input.spans ?? null];
    const defaults = [...LOG_LEVELS.map((l) => LOG_RETENTION_DEFAULTS.levels[l]), LOG_RETENTION_DEFAULTS.spans];
    // $3.. are the given values (null: keep), then the defaults for a first row.
    const n = columns.length;
    const rows = await tx.query(
      `insert into public.log_retention_settings (project_id, organization_id, ${columns.join(', ')})
       values ($1, $2, ${columns.map((_, i) => `coalesce($${i + 3}::int, $${i + 3 + n}::int)`).join(', ')})
       on conflict (project_id) do update set
         ${columns.map((c, i) => `${c} = coalesce($${i + 3}::int, public.log_retention_settings.${c})`).join(',\n         ')}
       returning project_id`,
      [projectId, project!.organization_id, ...given, ...defaults],
    );
    if (rows.length === 0) throw forbidden('Only owners and admins can change log retention');
    return readLogRetention(tx, projectId);
  });
}
