import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { PutConfig } from './schemas.ts';
import { CONFIG_COLUMNS, type ConfigRow, configView } from './views.ts';

/**
 * Creates or replaces the configuration of (project, metric, filter) (owners and admins; RLS refuses
 * others: 403). The scanner starts a fresh detector state for the affected series on its next run.
 */
export async function putConfig(deps: Pick<Deps, 'db'>, actor: Claims, input: PutConfig) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined, 'body.projectId');
    const [project] = await tx.query<{ organization_id: string }>('select organization_id from public.projects where id = $1', [projectId]);
    const [saved] = await tx.query<ConfigRow>(
      `insert into public.anomaly_configs (project_id, organization_id, metric, filter, config, enabled)
       values ($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6)
       on conflict (project_id, metric, filter) do update set config = excluded.config, enabled = excluded.enabled, updated_at = now()
       returning ${CONFIG_COLUMNS}`,
      [projectId, project!.organization_id, input.metric, JSON.stringify(input.filter), JSON.stringify(input.config), input.enabled],
    );
    if (!saved) throw forbidden('Only owners and admins can configure anomaly detection');
    return saved;
  });
  return configView(row);
}
