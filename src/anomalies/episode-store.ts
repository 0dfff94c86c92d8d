import type { Queryable } from '../db/types.ts';
import { type Episode, endOf, MINUTE_MS } from './episodes.ts';
import { SCANNER } from './scanner-config.ts';

/**
 * Episodes and incidents in SQL: what the scanner writes for the state machine's steps
 * (episodes.ts), incidents grouping episodes, and silent series' episodes closed in one statement.
 */

/** The series an episode belongs to, as the store needs it. */
export interface EpisodeSeries {
  series_id: string;
  project_id: string;
  name: string;
  tags: Record<string, string>;
}

/** The incident correlation key of a series: its service tag, else its metric. */
export function correlationKey(metric: string, tags: Record<string, string>): string {
  const service = tags['service'] ?? tags['service.name'];
  return service ? `service:${service}` : `metric:${metric}`;
}


/**
 * Writes an episode as open or closed: inserts it the first time (and puts it into an incident),
 * updates it when it changed or closes. Returns its id.
 */
export async function saveEpisode(tx: Queryable, s: EpisodeSeries, detector: string, e: Episode, status: 'open' | 'closed'): Promise<{ id: string; inserted: boolean }> {
  const endedAt = status === 'closed' ? new Date(endOf(e)) : null;
  if (e.id === null) {
    const [row] = await tx.query<{ id: string }>(
      `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, ended_at, status, peak_score, peak_at, explanation)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb) returning id`,
      [s.project_id, s.series_id, s.name, detector, new Date(e.startedAt), endedAt, status, e.peakScore, new Date(e.peakAt), JSON.stringify(e.explanation)],
    );
    await joinIncident(tx, s, row!.id, e.startedAt);
    return { id: row!.id, inserted: true };
  }
  if (e.changed || status === 'closed') {
    await tx.query(
      `update public.anomaly_episodes set ended_at = $2, status = $3, peak_score = $4, peak_at = $5, explanation = $6::text::jsonb where id = $1`,
      [e.id, endedAt, status, e.peakScore, new Date(e.peakAt), JSON.stringify(e.explanation)],
    );
  }
  return { id: e.id, inserted: false };
}

/** Puts a new episode into the incident of its correlation key that it starts near, or a new one. */
async function joinIncident(tx: Queryable, s: EpisodeSeries, episodeId: string, startedAt: number) {
  const key = correlationKey(s.name, s.tags);
  const start = new Date(startedAt);
  const [near] = await tx.query<{ id: string }>(
    `select id from public.anomaly_incidents
     where project_id = $1 and correlation_key = $2
       and started_at <= $3::timestamptz + make_interval(secs => $4)
       and coalesce(ended_at, $3::timestamptz) >= $3::timestamptz - make_interval(secs => $4)
     order by started_at desc limit 1`,
    [s.project_id, key, start, SCANNER.incidentWindowMs / 1000],
  );
  const incidentId =
    near?.id ??
    (
      await tx.query<{ id: string }>(
        `insert into public.anomaly_incidents (project_id, correlation_key, started_at, status) values ($1, $2, $3, 'open') returning id`,
        [s.project_id, key, start],
      )
    )[0]!.id;
  await tx.query('update public.anomaly_episodes set incident_id = $2 where id = $1', [episodeId, incidentId]);
}

/**
 * Recomputes start, end, status and member count of the incidents of the given series' episodes: an
 * incident is open while any member is open and ends at its last member's end. The one place that
 * rule lives, for series that recover and for series that go silent alike.
 */
export async function refreshIncidents(tx: Queryable, seriesIds: string[]) {
  if (seriesIds.length === 0) return;
  await tx.query(
    `update public.anomaly_incidents i set
       started_at = m.started_at, member_count = m.n,
       status = case when m.open > 0 then 'open' else 'closed' end,
       ended_at = case when m.open > 0 then null else m.ended_at end
     from (
       select incident_id, min(started_at) as started_at, count(*)::int as n, count(*) filter (where status = 'open') as open, max(ended_at) as ended_at
       from public.anomaly_episodes
       where incident_id in (select incident_id from public.anomaly_episodes where series_id = any($1::text[]::bigint[]) and incident_id is not null)
       group by incident_id
     ) m
     where i.id = m.incident_id
       and (i.started_at, i.member_count, i.status, i.ended_at) is distinct from
           (m.started_at, m.n, case when m.open > 0 then 'open' else 'closed' end, case when m.open > 0 then null else m.ended_at end)`,
    [seriesIds],
  );
}

/**
 * Closes the open episodes of silent series (invariant 7) in one statement, then refreshes their
 * incidents. Driven by the partial index on open states (20261126001900_anomaly_silent.sql), so it
 * reads only series with an open episode, plus one rollup primary-key probe each. The states are
 * locked (feedback writes them too) and the scanner's advisory lock keeps runs apart.
 */
export async function closeSilentEpisodes(tx: Queryable, cutoff: Date, quietMs: number): Promise<number> {
  const closed = await tx.query<{ series_id: string }>(
    `with silent as (
       select d.series_id, d.open_episode_id, d.last_anomalous_at
       from private.anomaly_detector_states d
       where d.open_episode_id is not null
         and d.last_anomalous_at <= $1::timestamptz - make_interval(secs => $2)
         and not exists (
           select 1 from public.metric_rollups r
           where r.resolution = '1m' and r.series_id = d.series_id and r.bucket > d.last_bucket and r.bucket <= $1
         )
       for update of d
     ), cleared as (
       update private.anomaly_detector_states d set open_episode_id = null, last_anomalous_at = null, updated_at = now()
       from silent s where d.series_id = s.series_id
     )
     update public.anomaly_episodes e
     -- The end of the last anomalous minute, as when the series recovers (scanSeries' save).
     set status = 'closed', ended_at = s.last_anomalous_at + interval '${MINUTE_MS / 1000} seconds'
     from silent s
     where e.id = s.open_episode_id and e.status = 'open'
     returning e.series_id::text as series_id`,
    [cutoff, quietMs / 1000],
  );
  await refreshIncidents(tx, closed.map((r) => r.series_id));
  return closed.length;
}

