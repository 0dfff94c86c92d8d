import type { Deps } from '../core/deps.ts';
import { notFound } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { EPISODE_COLUMNS, EPISODE_FROM, type EpisodeRow, episodeView } from './views.ts';

/** Minutes of context shown before and after an episode. */
export const SNIPPET_CONTEXT_MS = 30 * 60_000;
const SNIPPET_MAX_POINTS = 600;

/** One episode with its series around it (1m averages) and the peak's explanation (expected band). */
export async function getEpisode(deps: Pick<Deps, 'db'>, actor: Claims, id: string) {
  return withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<EpisodeRow>(`select ${EPISODE_COLUMNS} from ${EPISODE_FROM} where e.id = $1`, [id]);
    if (!row) throw notFound('Episode');
    const from = new Date(new Date(row.started_at).getTime() - SNIPPET_CONTEXT_MS);
    const end = row.ended_at ?? row.peak_at;
    const to = new Date(new Date(end).getTime() + SNIPPET_CONTEXT_MS);
    const points = await tx.query<{ bucket: Date; avg: number; min: number; max: number }>(
      `select bucket, sum / nullif(count, 0) as avg, min, max from public.metric_rollups
       where resolution = '1m' and series_id = $1 and project_id = $2 and bucket >= $3 and bucket <= $4
       order by bucket limit ${SNIPPET_MAX_POINTS}`,
      [row.series_id, row.project_id, from, to],
    );
    const e = row.explanation;
    return {
      ...episodeView(row),
      band: { expected: e.expected, lower: e.lower, upper: e.upper, observed: e.observed },
      series: { resolution: '1m', points: points.map((p) => [new Date(p.bucket).getTime(), p.avg, p.min, p.max] as const) },
    };
  });
}
