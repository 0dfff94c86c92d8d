import type { Queryable } from '../db/types.ts';
import type { DetectorConfigInput, DetectorState, Explanation } from './detectors/index.ts';
import { SCANNER } from './scanner-config.ts';

/**
 * The scanner's SQL over series, rollups and detector states (the state machine itself is
 * episodes.ts; episode and incident writes are episode-store.ts). Every function runs in the batch's
 * service-role transaction.
 */

export interface Candidate {
  series_id: string;
  project_id: string;
  name: string;
  tags: Record<string, string>;
  /** The most specific matching anomaly_configs row (null: none matches). */
  config: DetectorConfigInput | null;
  enabled: boolean | null;
}

export /** A saved state row with its open episode (episode_* null when none is open any more). */
interface SavedState {
  series_id: string;
  detector: string;
  config_hash: string;
  state: DetectorState;
  last_bucket: Date;
  open_episode_id: string | null;
  last_anomalous_at: Date | null;
  episode_id: string | null;
  episode_started_at: Date | null;
  episode_peak_score: number | null;
  episode_peak_at: Date | null;
  episode_explanation: Explanation | null;
}

export /** A series' new buckets: start times (ms) and averages (null when count = 0), in time order. */
interface NewBuckets {
  series_id: string;
  ts: number[] | null;
  avgs: (number | null)[] | null;
}

export /** The row a scanned series writes to anomaly_detector_states. */
interface StateWrite {
  series_id: string;
  project_id: string;
  detector: string;
  config_hash: string;
  state: DetectorState;
  last_bucket: string;
  open_episode_id: string | null;
  last_anomalous_at: string | null;
}

/**
 * The next page of candidates after series id `after` (invariant 3): per series one probe of the
 * rollup primary key (resolution, series_id, bucket) for a bucket newer than its watermark, plus the
 * most specific matching configuration. The LATERAL ... LIMIT 1 keeps it a nested loop of index
 * probes driven by metric_series' primary key, so the cost is one probe per series and never
 * depends on how much rollup history there is.
 */
export async function nextCandidates(tx: Queryable, cutoff: Date, after: string, limit: number): Promise<Candidate[]> {
  return tx.query<Candidate>(
    `select s.id::text as series_id, s.project_id, s.name, s.tags, c.config, c.enabled
     from public.metric_series s
     left join private.anomaly_detector_states d on d.series_id = s.id
     cross join lateral (
       select 1 from public.metric_rollups r
       where r.resolution = '1m' and r.series_id = s.id and r.bucket <= $1
         and r.bucket > greatest(d.last_bucket, $1::timestamptz - interval '${SCANNER.firstScanLookback}')
       limit 1
     ) p
     left join lateral (
       select c.config, c.enabled from public.anomaly_configs c
       where c.project_id = s.project_id and c.metric = s.name and s.tags @> c.filter
       order by (select count(*) from jsonb_object_keys(c.filter)) desc, c.created_at
       limit 1
     ) c on true
     where s.id > $2::text::bigint
     order by s.id
     limit $3`,
    [cutoff, after, limit],
  );
}

/** Saved states (locked: feedback writes them too) with their open episode, for a batch's series. */
export async function readStates(tx: Queryable, ids: string[]): Promise<Map<string, SavedState>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<SavedState>(
    `select d.series_id::text as series_id, d.detector, d.config_hash, d.state, d.last_bucket, d.open_episode_id, d.last_anomalous_at,
            e.id as episode_id, e.started_at as episode_started_at, e.peak_score as episode_peak_score, e.peak_at as episode_peak_at,
            e.explanation as episode_explanation
     from private.anomaly_detector_states d
     left join public.anomaly_episodes e on e.id = d.open_episode_id and e.status = 'open'
     where d.series_id = any($1::text[]::bigint[])
     order by d.series_id
     for update of d`,
    [ids],
  );
  return new Map(rows.map((r) => [r.series_id, r]));
}

/**
 * The new complete buckets of a batch's series, after each watermark (series never scanned:
 * cutoff - firstScanLookback), at most maxBucketsPerSeries each, as one row of arrays per series.
 * Reads the watermark in this transaction, after readStates locked it.
 */
export async function readBuckets(tx: Queryable, ids: string[], cutoff: Date): Promise<Map<string, NewBuckets>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.query<NewBuckets>(
    `select w.series_id::text as series_id, b.ts, b.avgs
     from unnest($1::text[]::bigint[]) as w(series_id)
     left join private.anomaly_detector_states d on d.series_id = w.series_id
     cross join lateral (
       select array_agg(x.t order by x.t) as ts, array_agg(x.avg order by x.t) as avgs
       from (
         select (extract(epoch from r.bucket) * 1000)::float8 as t, r.sum / nullif(r.count, 0) as avg
         from public.metric_rollups r
         where r.resolution = '1m' and r.series_id = w.series_id and r.bucket <= $2
           and r.bucket > coalesce(d.last_bucket, $2::timestamptz - interval '${SCANNER.firstScanLookback}')
         order by r.bucket
         limit ${SCANNER.maxBucketsPerSeries}
       ) x
     ) b`,
    [ids, cutoff],
  );
  return new Map(rows.map((r) => [r.series_id, r]));
}

/**
 * Set-based upsert of a batch's states: one statement. The small columns travel as one JSON
 * document and the states as a text[] zipped with it by position (ROWS FROM), so each state is
 * parsed into jsonb once, on its own: parsing them as part of one big jsonb document costs about
 * three times as much (every number goes through numeric_in, then is copied out again).
 */
export async function writeStates(tx: Queryable, writes: StateWrite[]) {
  if (writes.length === 0) return;
  await tx.query(
    `insert into private.anomaly_detector_states (series_id, project_id, detector, config_hash, state, last_bucket, open_episode_id, last_anomalous_at, updated_at)
     select x.series_id, x.project_id, x.detector, x.config_hash, x.state::jsonb, x.last_bucket, x.open_episode_id, x.last_anomalous_at, now()
     from rows from (
       jsonb_to_recordset($1::text::jsonb) as (series_id bigint, project_id uuid, detector text, config_hash text, last_bucket timestamptz,
         open_episode_id uuid, last_anomalous_at timestamptz),
       unnest($2::text[])
     ) as x(series_id, project_id, detector, config_hash, last_bucket, open_episode_id, last_anomalous_at, state)
     on conflict (series_id) do update set detector = excluded.detector, config_hash = excluded.config_hash, state = excluded.state,
       last_bucket = excluded.last_bucket, open_episode_id = excluded.open_episode_id, last_anomalous_at = excluded.last_anomalous_at,
       updated_at = excluded.updated_at`,
    [JSON.stringify(writes.map(({ state: _, ...meta }) => meta)), writes.map((w) => JSON.stringify(w.state))],
  );
}

