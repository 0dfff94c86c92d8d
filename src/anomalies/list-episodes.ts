import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import type { EpisodesQuery } from './schemas.ts';
import { EPISODE_COLUMNS, EPISODE_FROM, type EpisodeRow, episodeView } from './views.ts';

/** A project's episodes, newest first, filtered by metric, status or incident, under the caller's claims (RLS). */
export async function listEpisodes(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: EpisodesQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    return tx.query<EpisodeRow>(
      `select ${EPISODE_COLUMNS} from ${EPISODE_FROM}
       where e.project_id = $1 and ($2::text is null or e.metric = $2) and ($3::text is null or e.status = $3)
         and ($4::uuid is null or e.incident_id = $4)
       order by e.started_at desc, e.id limit $5`,
      [projectId, q.metric ?? null, q.status ?? null, q.incidentId ?? null, q.limit],
    );
  });
  return rows.map(episodeView);
}
