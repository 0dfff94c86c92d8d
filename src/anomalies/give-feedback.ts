import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { asServiceRole, type Claims, withClaims } from '../db/scoped.ts';
import { applyFeedback, type DetectorState } from './detectors/index.ts';
import { EPISODE_COLUMNS, EPISODE_FROM, type EpisodeRow, episodeView } from './views.ts';

/**
 * "Not an anomaly": marks the episode (RLS: members who may change the project; readers get 403,
 * others 404), then applies the feedback to the series' saved detector state, so the scanner's
 * threshold for that series rises. Giving the same feedback again changes nothing.
 */
export async function giveFeedback(deps: Pick<Deps, 'db'>, actor: Claims, id: string, kind: 'not_anomaly') {
  const marked = await withClaims(deps.db, actor, async (tx) => {
    const [row] = await tx.query<{ feedback: string | null }>('select feedback from public.anomaly_episodes where id = $1', [id]);
    if (!row) throw notFound('Episode');
    if (row.feedback === kind) return false;
    const [updated] = await tx.query(`update public.anomaly_episodes set feedback = $2, feedback_at = now() where id = $1 returning id`, [id, kind]);
    if (!updated) throw forbidden('Only members who may change this project can give feedback');
    return true;
  });
  if (marked) {
    await asServiceRole(deps.db, async (tx) => {
      const [e] = await tx.query<{ series_id: string; started_at: Date; ended_at: Date | null }>(
        'select series_id::text as series_id, started_at, ended_at from public.anomaly_episodes where id = $1',
        [id],
      );
      const [saved] = await tx.query<{ state: DetectorState; last_bucket: Date }>(
        'select state, last_bucket from private.anomaly_detector_states where series_id = $1 for update',
        [e!.series_id],
      );
      if (!saved) return;
      const from = new Date(e!.started_at).getTime();
      // Open episode: up to the newest scanned minute; closed: through its last anomalous minute.
      const to = Math.max(from, e!.ended_at ? new Date(e!.ended_at).getTime() - 1 : new Date(saved.last_bucket).getTime());
      applyFeedback(saved.state, { kind, from, to });
      await tx.query('update private.anomaly_detector_states set state = $2::text::jsonb, updated_at = now() where series_id = $1', [
        e!.series_id,
        JSON.stringify(saved.state),
      ]);
    });
  }
  const episodes = await withClaims(deps.db, actor, (tx) => tx.query<EpisodeRow>(`select ${EPISODE_COLUMNS} from ${EPISODE_FROM} where e.id = $1`, [id]));
  return episodeView(episodes[0]!);
}
