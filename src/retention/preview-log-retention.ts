import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { readLogRetention } from './get-log-retention.ts';
import { type ProjectRetention, projectRetention } from './log-retention.ts';
import { LOG_LEVELS, type LogLevel } from './schemas.ts';

/**
 * What the next cleanup-retention run would remove from one project, counted under the caller's
 * claims (RLS) and changing nothing: per level and for spans, the cutoff and how many rows are older
 * than it (whether they then go row by row or with a whole daily partition).
 */
export async function previewLogRetention(
  deps: Pick<Deps, 'db' | 'clock'>,
  actor: Claims,
  keyProjectId: string | undefined,
  input: { projectId?: string },
): Promise<ProjectRetention & { now: string }> {
  const now = deps.clock.now();
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, keyProjectId);
    const settings = await readLogRetention(tx, projectId);
    const plan = projectRetention(projectId, settings.custom, settings, now);
    const levels = JSON.stringify(LOG_LEVELS.map((level) => ({ level, cutoff: plan.levels[level].cutoff })));
    const counts = await tx.query<{ level: LogLevel; n: unknown }>(
      `select c.level, (select count(*) from public.logs l where l.project_id = $1 and l.level = c.level and l.time < c.cutoff) as n
       from jsonb_to_recordset($2::text::jsonb) as c(level text, cutoff timestamptz)`,
      [projectId, levels],
    );
    for (const r of counts) plan.levels[r.level].rows = Number(r.n);
    const [spans] = await tx.query<{ n: unknown }>('select count(*) as n from public.spans where project_id = $1 and start_time < $2', [
      projectId,
      new Date(plan.spans.cutoff),
    ]);
    plan.spans.rows = Number(spans?.n ?? 0);
    return { now: now.toISOString(), ...plan };
  }, { statement_timeout: '30s' });
}
