import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { CONFIG_COLUMNS, type ConfigRow, configView } from './views.ts';

/** A project's per-metric detector configurations, under the caller's claims (RLS). */
export async function listConfigs(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: { projectId?: string; metric?: string }) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    return tx.query<ConfigRow>(
      `select ${CONFIG_COLUMNS} from public.anomaly_configs where project_id = $1 and ($2::text is null or metric = $2) order by metric, filter::text limit 1000`,
      [projectId, q.metric ?? null],
    );
  });
  return rows.map(configView);
}
