import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { Job } from '../jobs/types.ts';
import {
  createDetectorState,
  DetectorConfig,
  type DetectorConfigInput,
  type DetectorState,
  type Explanation,
  stepDetector,
} from './detectors/index.ts';

/**
 * The anomaly scanner. Invariants (also in supabase/migrations/*_anomalies.sql):
 * 1. Each series' complete 1m rollup buckets are fed to its detector once, in time order, as the
 *    bucket average (sum / count). A bucket is complete when bucket + 1 minute <= now - SETTLE_MS,
 *    so a minute still filling (or not rolled up yet) is never scored.
 * 2. Per series, the detector state, last_bucket (the series' watermark) and the episode changes are
 *    saved in one transaction, so running twice changes nothing and history is never reread. A late
 *    point in a minute already scanned is not rescored.
 * 3. Bounded work per run: at most MAX_SERIES_PER_RUN series and MAX_BUCKETS_PER_SERIES buckets each,
 *    within budgetMs; the next run resumes from the saved watermarks.
 * 4. Episodes: anomalous minutes separated by at most EPISODE_GAP_MINUTES normal minutes form one
 *    episode; it closes once the series has been normal for RECOVERY_MINUTES. A new episode joins an
 *    incident of the same correlation key (service tag, else metric) of its project when it starts
 *    within INCIDENT_WINDOW_MS of it.
 * 5. Configuration: the enabled anomaly_configs row of the series' metric whose filter the series'
 *    tags contain (the most specific when several do); a matching disabled row turns scanning off;
 *    none = the default detector. A changed configuration starts a fresh state from the watermark.
 */
export const SCANNER = {
  settleMs: 60_000,
  /** Series never scanned start this far back. */
  firstScanLookback: '7 days',
  maxSeriesPerRun: 500,
  maxBucketsPerSeries: 10_000,
  /** Normal minutes an episode may contain between anomalous ones. */
  episodeGapMinutes: 2,
  /** Normal minutes after which an episode closes (episodeGapMinutes + 1, so the two rules agree). */
  recoveryMinutes: 3,
  incidentWindowMs: 10 * 60_000,
} as const;

const MINUTE = 60_000;

/** A stable short hash of a configuration (FNV-1a over its canonical JSON). */
export function configHash(config: unknown): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
      : v;
  const text = JSON.stringify(canon(config));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The incident correlation key of a series: its service tag, else its metric. */
export function correlationKey(metric: string, tags: Record<string, string>): string {
  const service = tags['service'] ?? tags['service.name'];
  return service ? `service:${service}` : `metric:${metric}`;
}

interface Candidate {
  series_id: string;
  project_id: string;
  name: string;
  tags: Record<string, string>;
}

interface SavedState {
  detector: string;
  config_hash: string;
  state: DetectorState;
  last_bucket: Date;
  open_episode_id: string | null;
  last_anomalous_at: Date | null;
}

interface OpenEpisode {
  id: string | null;
  startedAt: number;
  lastAnomalousAt: number;
  peakScore: number;
  peakAt: number;
  explanation: Explanation;
  changed: boolean;
}

/** The configuration of a series: the most specific matching config row, or the default. */
async function configFor(tx: Queryable, s: Candidate): Promise<{ enabled: boolean; config: DetectorConfigInput }> {
  const [row] = await tx.query<{ config: DetectorConfigInput; enabled: boolean }>(
    `select config, enabled from public.anomaly_configs
     where project_id = $1 and metric = $2 and $3::text::jsonb @> filter
     order by (select count(*) from jsonb_object_keys(filter)) desc, created_at
     limit 1`,
    [s.project_id, s.name, JSON.stringify(s.tags)],
  );
  if (!row) return { enabled: true, config: {} };
  const parsed = DetectorConfig.safeParse(row.config);
  // A row that no longer validates (schema tightened) falls back to the default rather than failing the scan.
  return { enabled: row.enabled, config: parsed.success ? parsed.data : {} };
}

/** Scans one series in its own transaction. Returns counters for the run summary. */
async function scanSeries(tx: Queryable, s: Candidate, cutoff: Date) {
  const out = { points: 0, opened: 0, closed: 0, skipped: false };
  const { enabled, config } = await configFor(tx, s);
  if (!enabled) {
    out.skipped = true;
    return out;
  }
  const hash = configHash(config);
  const [saved] = await tx.query<SavedState>(
    `select detector, config_hash, state, last_bucket, open_episode_id, last_anomalous_at
     from public.anomaly_detector_states where series_id = $1 for update`,
    [s.series_id],
  );
  const buckets = await tx.query<{ bucket: Date; avg: number }>(
    `select bucket, sum / nullif(count, 0) as avg from public.metric_rollups
     where resolution = '1m' and series_id = $1 and bucket <= $2
       and bucket > coalesce($3::timestamptz, $2::timestamptz - interval '${SCANNER.firstScanLookback}')
     order by bucket limit ${SCANNER.maxBucketsPerSeries}`,
    [s.series_id, cutoff, saved?.last_bucket ?? null],
  );
  if (buckets.length === 0) return out;

  const state: DetectorState = saved && saved.config_hash === hash ? saved.state : createDetectorState(config);
  let episode: OpenEpisode | null = null;
  if (saved?.open_episode_id) {
    const [row] = await tx.query<{ id: string; started_at: Date; peak_score: number; peak_at: Date; explanation: Explanation }>(
      `select id, started_at, peak_score, peak_at, explanation from public.anomaly_episodes where id = $1 and status = 'open'`,
      [saved.open_episode_id],
    );
    if (row) {
      episode = {
        id: row.id,
        startedAt: new Date(row.started_at).getTime(),
        lastAnomalousAt: new Date(saved.last_anomalous_at ?? row.started_at).getTime(),
        peakScore: row.peak_score,
        peakAt: new Date(row.peak_at).getTime(),
        explanation: row.explanation,
        changed: false,
      };
    }
  }

  const close = async (e: OpenEpisode) => {
    await save(e, 'closed');
    out.closed += 1;
  };
  const save = async (e: OpenEpisode, status: 'open' | 'closed') => {
    const endedAt = status === 'closed' ? new Date(e.lastAnomalousAt + MINUTE) : null;
    if (e.id === null) {
      const [row] = await tx.query<{ id: string }>(
        `insert into public.anomaly_episodes (project_id, series_id, metric, detector, started_at, ended_at, status, peak_score, peak_at, explanation)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb) returning id`,
        [s.project_id, s.series_id, s.name, state.detector, new Date(e.startedAt), endedAt, status, e.peakScore, new Date(e.peakAt), JSON.stringify(e.explanation)],
      );
      e.id = row!.id;
      out.opened += 1;
      await joinIncident(tx, s, e.id, e.startedAt);
    } else if (e.changed || status === 'closed') {
      await tx.query(
        `update public.anomaly_episodes set ended_at = $2, status = $3, peak_score = $4, peak_at = $5, explanation = $6::text::jsonb where id = $1`,
        [e.id, endedAt, status, e.peakScore, new Date(e.peakAt), JSON.stringify(e.explanation)],
      );
    }
    e.changed = false;
  };

  for (const b of buckets) {
    const t = new Date(b.bucket).getTime();
    out.points += 1;
    if (b.avg === null || !Number.isFinite(Number(b.avg))) continue;
    const r = stepDetector(state, { timestamp: t, value: Number(b.avg) });
    // An anomalous minute after more than episodeGapMinutes normal (or missing) ones starts a new
    // episode; a normal minute that completes recoveryMinutes of them ends the current one.
    if (episode && t - episode.lastAnomalousAt >= (r.anomalous ? SCANNER.episodeGapMinutes + 2 : SCANNER.recoveryMinutes) * MINUTE) {
      await close(episode);
      episode = null;
    }
    if (!r.anomalous) continue;
    if (!episode) {
      episode = { id: null, startedAt: t, lastAnomalousAt: t, peakScore: r.score, peakAt: t, explanation: r.explanation, changed: true };
      continue;
    }
    episode.lastAnomalousAt = t;
    episode.changed = true;
    if (r.score > episode.peakScore) {
      episode.peakScore = r.score;
      episode.peakAt = t;
      episode.explanation = r.explanation;
    }
  }
  if (episode) await save(episode, 'open');

  const last = buckets[buckets.length - 1]!.bucket;
  await tx.query(
    `insert into public.anomaly_detector_states (series_id, project_id, detector, config_hash, state, last_bucket, open_episode_id, last_anomalous_at, updated_at)
     values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, now())
     on conflict (series_id) do update set detector = excluded.detector, config_hash = excluded.config_hash, state = excluded.state,
       last_bucket = excluded.last_bucket, open_episode_id = excluded.open_episode_id, last_anomalous_at = excluded.last_anomalous_at,
       updated_at = excluded.updated_at`,
    [s.series_id, s.project_id, state.detector, hash, JSON.stringify(state), last, episode?.id ?? null, episode ? new Date(episode.lastAnomalousAt) : null],
  );
  if (out.opened > 0 || out.closed > 0) await refreshIncidents(tx, s.series_id);
  return out;
}

/** Puts a new episode into the incident of its correlation key that it starts near, or a new one. */
async function joinIncident(tx: Queryable, s: Candidate, episodeId: string, startedAt: number) {
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

/** Recomputes start, end, status and member count of the incidents of a series' episodes. */
async function refreshIncidents(tx: Queryable, seriesId: string) {
  await tx.query(
    `update public.anomaly_incidents i set
       started_at = m.started_at, member_count = m.n,
       status = case when m.open > 0 then 'open' else 'closed' end,
       ended_at = case when m.open > 0 then null else m.ended_at end
     from (
       select incident_id, min(started_at) as started_at, count(*)::int as n, count(*) filter (where status = 'open') as open, max(ended_at) as ended_at
       from public.anomaly_episodes
       where incident_id in (select incident_id from public.anomaly_episodes where series_id = $1 and incident_id is not null)
       group by incident_id
     ) m
     where i.id = m.incident_id
       and (i.started_at, i.member_count, i.status, i.ended_at) is distinct from
           (m.started_at, m.n, case when m.open > 0 then 'open' else 'closed' end, case when m.open > 0 then null else m.ended_at end)`,
    [seriesId],
  );
}

export const detectAnomalies: Job = {
  name: 'detect-anomalies',
  intervalSeconds: 60,
  lockKey: 7_100_002,
  async run(deps, { now, budgetMs }) {
    const deadline = performance.now() + budgetMs;
    // The newest bucket start whose minute is complete and settled.
    const cutoff = new Date(Math.floor((now.getTime() - SCANNER.settleMs - MINUTE) / MINUTE) * MINUTE);
    const candidates = await asServiceRole(deps.db, (tx) =>
      tx.query<Candidate>(
        `select s.id::text as series_id, s.project_id, s.name, s.tags
         from public.metric_series s
         where s.id in (
           select r.series_id from public.metric_rollups r
           left join public.anomaly_detector_states d on d.series_id = r.series_id
           where r.resolution = '1m' and r.bucket <= $1
             and r.bucket > $1::timestamptz - interval '${SCANNER.firstScanLookback}'
             and (d.last_bucket is null or r.bucket > d.last_bucket)
         )
         order by s.id limit ${SCANNER.maxSeriesPerRun + 1}`,
        [cutoff],
      ),
    );
    const more = candidates.length > SCANNER.maxSeriesPerRun;
    const summary = { cutoff: cutoff.toISOString(), series: 0, skipped: 0, points: 0, episodesOpened: 0, episodesClosed: 0, complete: true };
    for (const s of candidates.slice(0, SCANNER.maxSeriesPerRun)) {
      if (performance.now() > deadline) {
        summary.complete = false;
        break;
      }
      const r = await asServiceRole(deps.db, (tx) => scanSeries(tx, s, cutoff));
      summary.series += r.skipped ? 0 : 1;
      summary.skipped += r.skipped ? 1 : 0;
      summary.points += r.points;
      summary.episodesOpened += r.opened;
      summary.episodesClosed += r.closed;
    }
    if (more) summary.complete = false;
    return summary;
  },
};
