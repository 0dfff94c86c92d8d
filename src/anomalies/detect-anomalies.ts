import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { Deps } from '../core/deps.ts';
import type { Job, JobContext } from '../core/job.ts';
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
 * 2. A series' detector state, last_bucket (the series' watermark) and its episode changes are saved
 *    in the same transaction, so running twice changes nothing and history is never reread. A late
 *    point in a minute already scanned is not rescored. Several series share one transaction (a
 *    batch); series never depend on each other except through incidents, which are joined and
 *    refreshed series by series in id order, exactly as if each series had its own transaction.
 * 3. Candidates are the series with a 1m bucket in (greatest(last_bucket, cutoff - firstScanLookback),
 *    cutoff]: one index probe per series (metric_rollups' primary key), never a read of the rollup
 *    history. Series are visited in id order with a keyset, so a run that stops early (budget) is
 *    resumed by the next one from the saved watermarks; nothing else is remembered between runs.
 * 4. Bounded work per run: budgetMs (checked before each series; a batch commits the series it
 *    finished), MAX_BUCKETS_PER_SERIES buckets per series, and batches sized so that one batch reads
 *    about batchRowTarget rollup rows (a first scan reads days per series, a steady-state run one
 *    minute). There is no series cap: the budget is the only stop.
 * 5. Episodes: anomalous minutes separated by at most EPISODE_GAP_MINUTES normal minutes form one
 *    episode; it closes once the series has been normal for RECOVERY_MINUTES. A new episode joins an
 *    incident of the same correlation key (service tag, else metric) of its project when it starts
 *    within INCIDENT_WINDOW_MS of it.
 * 6. Configuration: the enabled anomaly_configs row of the series' metric whose filter the series'
 *    tags contain (the most specific when several do); a matching disabled row turns scanning off
 *    (the series is counted as skipped and its watermark stays); none = the default detector. A
 *    changed configuration starts a fresh state from the watermark.
 * 7. Silent series: an open episode whose last anomalous minute is at least quietMs before the cutoff
 *    (cutoff >= last_anomalous_at + quietMs, so quietMs complete minutes have passed without another
 *    anomalous one) and whose series has no unscanned 1m bucket in (last_bucket, cutoff] is closed at
 *    the end of its last anomalous minute, exactly as if the series had recovered; the state row stops
 *    referencing it (open_episode_id and last_anomalous_at null) in the same statement, so a series
 *    that sends again later opens a new episode. quietMs >= (episodeGapMinutes + 2) minutes, the gap
 *    after which an anomalous minute would start a new episode anyway, so closing early never splits
 *    an episode the scan would have continued. Time is the run's cutoff (from ctx.now), never the clock.
 */
export const SCANNER = {
  settleMs: 60_000,
  /** Series never scanned start this far back (and no series is probed further back than this). */
  firstScanLookback: '7 days',
  maxBucketsPerSeries: 10_000,
  /** Series in the first batch of a run; later batches grow (at most 4x) or shrink toward batchRowTarget. */
  firstBatchSeries: 25,
  minBatchSeries: 5,
  maxBatchSeries: 250,
  /** Rollup rows one batch aims to read (and hold in memory). */
  batchRowTarget: 100_000,
  /** Normal minutes an episode may contain between anomalous ones. */
  episodeGapMinutes: 2,
  /** Normal minutes after which an episode closes (episodeGapMinutes + 1, so the two rules agree). */
  recoveryMinutes: 3,
  incidentWindowMs: 10 * 60_000,
  /** An open episode of a series that sent nothing for this long after its last anomalous minute closes (invariant 7). */
  quietMs: 10 * 60_000,
} as const;

/** Batch sizing, overridable so tests can put batch boundaries anywhere. */
export interface ScanLimits {
  firstBatchSeries: number;
  minBatchSeries: number;
  maxBatchSeries: number;
  batchRowTarget: number;
}

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
  /** The most specific matching anomaly_configs row (null: none matches). */
  config: DetectorConfigInput | null;
  enabled: boolean | null;
}

/** A saved state row with its open episode (episode_* null when none is open any more). */
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

/** A series' new buckets: start times (ms) and averages (null when count = 0), in time order. */
interface NewBuckets {
  series_id: string;
  ts: number[] | null;
  avgs: (number | null)[] | null;
}

/** The row a scanned series writes to anomaly_detector_states. */
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

interface OpenEpisode {
  id: string | null;
  startedAt: number;
  lastAnomalousAt: number;
  peakScore: number;
  peakAt: number;
  explanation: Explanation;
  changed: boolean;
}

/** Resolves a candidate's configuration row (parsed once per distinct row text). */
function configOf(c: Candidate, cache: Map<string, { config: DetectorConfigInput; hash: string }>) {
  if (c.enabled === false) return null;
  const key = c.config === null ? '' : JSON.stringify(c.config);
  let hit = cache.get(key);
  if (!hit) {
    let config: DetectorConfigInput = {};
    if (c.config !== null) {
      const parsed = DetectorConfig.safeParse(c.config);
      // A row that no longer validates (schema tightened) falls back to the default rather than failing the scan.
      config = parsed.success ? parsed.data : {};
    }
    hit = { config, hash: configHash(config) };
    cache.set(key, hit);
  }
  return hit;
}

/**
 * The next page of candidates after series id `after` (invariant 3): per series one probe of the
 * rollup primary key (resolution, series_id, bucket) for a bucket newer than its watermark, plus the
 * most specific matching configuration. The LATERAL ... LIMIT 1 keeps it a nested loop of index
 * probes driven by metric_series' primary key, so the cost is one probe per series and never
 * depends on how much rollup history there is.
 */
async function nextCandidates(tx: Queryable, cutoff: Date, after: string, limit: number): Promise<Candidate[]> {
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
async function readStates(tx: Queryable, ids: string[]): Promise<Map<string, SavedState>> {
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
async function readBuckets(tx: Queryable, ids: string[], cutoff: Date): Promise<Map<string, NewBuckets>> {
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
async function writeStates(tx: Queryable, writes: StateWrite[]) {
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

/**
 * Scans one series of a batch: feeds its new buckets to the detector and writes its episode changes
 * (and incidents) at once, so the next series of the batch sees them; returns the state row to save
 * with the batch (null when there was nothing new).
 */
async function scanSeries(
  tx: Queryable,
  s: Candidate,
  conf: { config: DetectorConfigInput; hash: string },
  saved: SavedState | undefined,
  buckets: NewBuckets | undefined,
) {
  const out = { points: 0, opened: 0, closed: 0, write: null as StateWrite | null };
  const ts = buckets?.ts ?? [];
  const avgs = buckets?.avgs ?? [];
  if (ts.length === 0) return out;

  const state: DetectorState = saved && saved.config_hash === conf.hash ? saved.state : createDetectorState(conf.config);
  let episode: OpenEpisode | null = null;
  if (saved?.open_episode_id && saved.episode_id) {
    episode = {
      id: saved.episode_id,
      startedAt: new Date(saved.episode_started_at!).getTime(),
      lastAnomalousAt: new Date(saved.last_anomalous_at ?? saved.episode_started_at!).getTime(),
      peakScore: saved.episode_peak_score!,
      peakAt: new Date(saved.episode_peak_at!).getTime(),
      explanation: saved.episode_explanation!,
      changed: false,
    };
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

  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const avg = avgs[i];
    out.points += 1;
    if (avg === null || avg === undefined || !Number.isFinite(Number(avg))) continue;
    const r = stepDetector(state, { timestamp: t, value: Number(avg) });
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
  // Incidents are refreshed before the next series of the batch joins one (invariant 2).
  if (out.opened > 0 || out.closed > 0) await refreshIncidents(tx, [s.series_id]);

  out.write = {
    series_id: s.series_id,
    project_id: s.project_id,
    detector: state.detector,
    config_hash: conf.hash,
    state,
    last_bucket: new Date(ts[ts.length - 1]!).toISOString(),
    open_episode_id: episode?.id ?? null,
    last_anomalous_at: episode ? new Date(episode.lastAnomalousAt).toISOString() : null,
  };
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

/**
 * Recomputes start, end, status and member count of the incidents of the given series' episodes: an
 * incident is open while any member is open and ends at its last member's end. The one place that
 * rule lives, for series that recover and for series that go silent alike.
 */
async function refreshIncidents(tx: Queryable, seriesIds: string[]) {
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
async function closeSilentEpisodes(tx: Queryable, cutoff: Date, quietMs: number): Promise<number> {
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
     set status = 'closed', ended_at = s.last_anomalous_at + interval '${MINUTE / 1000} seconds'
     from silent s
     where e.id = s.open_episode_id and e.status = 'open'
     returning e.series_id::text as series_id`,
    [cutoff, quietMs / 1000],
  );
  await refreshIncidents(tx, closed.map((r) => r.series_id));
  return closed.length;
}

/** The size of the next batch: aim at batchRowTarget rows, growing at most 4x per batch. */
export function nextBatchSize(size: number, rows: number, limits: ScanLimits): number {
  const aimed = rows > 0 ? Math.floor((size * limits.batchRowTarget) / rows) : limits.maxBatchSeries;
  return Math.max(limits.minBatchSeries, Math.min(limits.maxBatchSeries, 4 * size, aimed));
}

export interface ScanOptions {
  limits?: ScanLimits;
  /** Milliseconds, monotonic; read once at the start and once before each series (tests pass a fake). */
  timer?: () => number;
  /** Quiet period after which an open episode of a silent series closes (invariant 7); default SCANNER.quietMs. */
  quietMs?: number;
}

/** One scanner run (the detect-anomalies job): batches of candidates in series id order until done or out of budget. */
export async function scanAnomalies(deps: Pick<Deps, 'db'>, { now, budgetMs }: JobContext, opts: ScanOptions = {}) {
  const limits = opts.limits ?? SCANNER;
  const timer = opts.timer ?? (() => performance.now());
  const quietMs = opts.quietMs ?? SCANNER.quietMs;
  if (!(quietMs >= (SCANNER.episodeGapMinutes + 2) * MINUTE)) throw new Error(`quietMs must be at least ${(SCANNER.episodeGapMinutes + 2) * MINUTE}`);
  const deadline = timer() + budgetMs;
  // The newest bucket start whose minute is complete and settled.
  const cutoff = new Date(Math.floor((now.getTime() - SCANNER.settleMs - MINUTE) / MINUTE) * MINUTE);
  const summary = { cutoff: cutoff.toISOString(), series: 0, skipped: 0, points: 0, episodesOpened: 0, episodesClosed: 0, episodesSilenced: 0, complete: true };
  const configs = new Map<string, { config: DetectorConfigInput; hash: string }>();
  let after = '0';
  let size = limits.firstBatchSeries;
  for (;;) {
    const batch = await asServiceRole(deps.db, async (tx) => {
      const candidates = await nextCandidates(tx, cutoff, after, size);
      const enabled = candidates.filter((c) => configOf(c, configs) !== null).map((c) => c.series_id);
      const saved = await readStates(tx, enabled);
      const buckets = await readBuckets(tx, enabled, cutoff);
      let rows = 0;
      for (const b of buckets.values()) rows += b.ts?.length ?? 0;
      const writes: StateWrite[] = [];
      let stopped = false;
      let last = after;
      for (const c of candidates) {
        if (timer() > deadline) {
          stopped = true;
          break;
        }
        last = c.series_id;
        const conf = configOf(c, configs);
        if (!conf) {
          summary.skipped += 1;
          continue;
        }
        const r = await scanSeries(tx, c, conf, saved.get(c.series_id), buckets.get(c.series_id));
        summary.series += 1;
        summary.points += r.points;
        summary.episodesOpened += r.opened;
        summary.episodesClosed += r.closed;
        if (r.write) writes.push(r.write);
      }
      await writeStates(tx, writes);
      return { last, stopped, found: candidates.length, rows };
    });
    after = batch.last;
    if (batch.stopped) {
      summary.complete = false;
      break;
    }
    if (batch.found < size) break;
    size = nextBatchSize(size, batch.rows, limits);
  }
  // After the batches, so series scanned in this run are judged on their new watermark; a series the
  // budget did not reach still has unscanned buckets and is left open (invariant 7).
  const silenced = await asServiceRole(deps.db, (tx) => closeSilentEpisodes(tx, cutoff, quietMs));
  summary.episodesSilenced = silenced;
  summary.episodesClosed += silenced;
  return summary;
}

export const detectAnomalies: Job = {
  name: 'detect-anomalies',
  intervalSeconds: 60,
  lockKey: 7_100_002,
  run: (deps, ctx) => scanAnomalies(deps, ctx),
};
