import type { Deps } from '../core/deps.ts';
import { forbidden, notFound } from '../core/errors.ts';
import { asServiceRole, type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { applyFeedback, type DetectorState, type Explanation } from './detectors/index.ts';
import type { EpisodesQuery, IncidentsQuery, PutConfig } from './schemas.ts';

/** Verbs of the anomalies function. Reads and user writes run under the caller's claims (RLS). */

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

interface IncidentRow {
  id: string;
  project_id: string;
  correlation_key: string;
  started_at: Date;
  ended_at: Date | null;
  status: string;
  member_count: number;
}
const incidentView = (r: IncidentRow) => ({
  id: r.id,
  projectId: r.project_id,
  correlationKey: r.correlation_key,
  startedAt: iso(r.started_at),
  endedAt: iso(r.ended_at),
  status: r.status,
  memberCount: Number(r.member_count),
});

interface EpisodeRow {
  id: string;
  project_id: string;
  series_id: string;
  metric: string;
  tags: Record<string, string>;
  detector: string;
  started_at: Date;
  ended_at: Date | null;
  status: string;
  peak_score: number;
  peak_at: Date;
  explanation: Explanation;
  feedback: string | null;
  incident_id: string | null;
}
const EPISODE_COLUMNS = `e.id, e.project_id, e.series_id::text as series_id, e.metric, s.tags, e.detector, e.started_at, e.ended_at, e.status,
  e.peak_score, e.peak_at, e.explanation, e.feedback, e.incident_id`;
const EPISODE_FROM = 'public.anomaly_episodes e join public.metric_series s on s.id = e.series_id';
const episodeView = (r: EpisodeRow) => ({
  id: r.id,
  projectId: r.project_id,
  seriesId: r.series_id,
  metric: r.metric,
  tags: r.tags,
  detector: r.detector,
  startedAt: iso(r.started_at),
  endedAt: iso(r.ended_at),
  status: r.status,
  peakScore: r.peak_score,
  peakAt: iso(r.peak_at),
  explanation: r.explanation,
  feedback: r.feedback,
  incidentId: r.incident_id,
});

export async function listIncidents(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, q: IncidentsQuery) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, q.projectId, keyProjectId);
    return tx.query<IncidentRow>(
      `select id, project_id, correlation_key, started_at, ended_at, status, member_count from public.anomaly_incidents
       where project_id = $1 and ($2::text is null or status = $2)
         and ($3::timestamptz is null or coalesce(ended_at, 'infinity') >= $3) and ($4::timestamptz is null or started_at < $4)
       order by started_at desc limit $5`,
      [projectId, q.status ?? null, q.from ?? null, q.to ?? null, q.limit],
    );
  });
  return rows.map(incidentView);
}

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

interface ConfigRow {
  id: string;
  project_id: string;
  metric: string;
  filter: Record<string, string>;
  config: Record<string, unknown>;
  enabled: boolean;
  updated_at: Date;
}
const configView = (r: ConfigRow) => ({
  id: r.id,
  projectId: r.project_id,
  metric: r.metric,
  filter: r.filter,
  config: r.config,
  enabled: r.enabled,
  updatedAt: iso(r.updated_at),
});
const CONFIG_COLUMNS = 'id, project_id, metric, filter, config, enabled, updated_at';

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

/**
 * Creates or replaces the configuration of (project, metric, filter) (owners and admins; RLS refuses
 * others: 403). The scanner starts a fresh detector state for the affected series on its next run.
 */
export async function putConfig(deps: Pick<Deps, 'db'>, actor: Claims, input: PutConfig) {
  const row = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, input.projectId, undefined);
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
