import type { Explanation } from './detectors/index.ts';

/** Rows of the anomalies tables and how the API shows them, shared by the verbs of this folder. */

export const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export interface IncidentRow {
  id: string;
  project_id: string;
  correlation_key: string;
  started_at: Date;
  ended_at: Date | null;
  status: string;
  member_count: number;
}
export const incidentView = (r: IncidentRow) => ({
  id: r.id,
  projectId: r.project_id,
  correlationKey: r.correlation_key,
  startedAt: iso(r.started_at),
  endedAt: iso(r.ended_at),
  status: r.status,
  memberCount: Number(r.member_count),
});

export interface EpisodeRow {
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
export const EPISODE_COLUMNS = `e.id, e.project_id, e.series_id::text as series_id, e.metric, s.tags, e.detector, e.started_at, e.ended_at, e.status,
  e.peak_score, e.peak_at, e.explanation, e.feedback, e.incident_id`;
export const EPISODE_FROM = 'public.anomaly_episodes e join public.metric_series s on s.id = e.series_id';
export const episodeView = (r: EpisodeRow) => ({
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

export interface ConfigRow {
  id: string;
  project_id: string;
  metric: string;
  filter: Record<string, string>;
  config: Record<string, unknown>;
  enabled: boolean;
  updated_at: Date;
}
export const configView = (r: ConfigRow) => ({
  id: r.id,
  projectId: r.project_id,
  metric: r.metric,
  filter: r.filter,
  config: r.config,
  enabled: r.enabled,
  updatedAt: iso(r.updated_at),
});
export const CONFIG_COLUMNS = 'id, project_id, metric, filter, config, enabled, updated_at';
