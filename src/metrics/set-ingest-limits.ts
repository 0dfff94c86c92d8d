import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { DEFAULT_INGEST_SETTINGS } from '../ingest/settings.ts';
import { resolveProject } from '../orgs/lookup.ts';

/**
 * Owners and admins change a project's limits (RLS refuses everyone else: 403). Audited by trigger.
 * The ingest path picks the change up within a minute (its settings cache).
 */
export async function setIngestLimits(
  deps: Pick<Deps, 'db'>,
  actor: Claims,
  input: { projectId: string; maxSeries?: number; requestsPerMinute?: number; eventsPerMinute?: number },
) {
  return withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined, 'body.projectId');
    const [project] = await tx.query<{ organization_id: string }>('select organization_id from public.projects where id = $1', [projectId]);
    const d = DEFAULT_INGEST_SETTINGS;
    // Update, else insert, in one statement; not INSERT ... ON CONFLICT, whose BEFORE INSERT trigger
    // would judge the proposed row against the ceiling before it turns into an update of a row the
    // operator had raised (private.project_ingest_settings_within_ceiling).
    const [row] = await tx.query<{ max_series: number; requests_per_minute: number; events_per_minute: number }>(
      `with updated as (
         update public.project_ingest_settings set
           max_series = coalesce($3::int, max_series),
           requests_per_minute = coalesce($4::int, requests_per_minute),
           events_per_minute = coalesce($5::int, events_per_minute),
           updated_at = now()
         where project_id = $1
         returning max_series, requests_per_minute, events_per_minute
       ), inserted as (
         insert into public.project_ingest_settings (project_id, organization_id, max_series, requests_per_minute, events_per_minute)
         select $1, $2, coalesce($3::int, $6::int), coalesce($4::int, $7::int), coalesce($5::int, $8::int)
         where not exists (select 1 from updated)
         returning max_series, requests_per_minute, events_per_minute
       )
       select * from updated union all select * from inserted`,
      [projectId, project!.organization_id, input.maxSeries ?? null, input.requestsPerMinute ?? null, input.eventsPerMinute ?? null, d.maxSeries, d.requestsPerMinute, d.eventsPerMinute],
    );
    if (!row) throw forbidden('Only owners and admins can change ingest limits');
    return { projectId, maxSeries: row.max_series, requestsPerMinute: row.requests_per_minute, eventsPerMinute: row.events_per_minute };
  });
}
