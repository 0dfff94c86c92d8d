import { asServiceRole } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import type { Deps } from '../core/deps.ts';
import type { Job, JobContext } from '../core/job.ts';
import { createDetectorState, DEFAULT_DETECTOR, DetectorConfig, type DetectorConfigInput, type DetectorState, stepDetector } from './detectors/index.ts';
import { closeSilentEpisodes, refreshIncidents, saveEpisode } from './episode-store.ts';
import { advanceEpisode, type Episode, MINUTE_MS as MINUTE } from './episodes.ts';
import { SCANNER, type ScanLimits } from './scanner-config.ts';
import { type Candidate, type NewBuckets, nextCandidates, readBuckets, readStates, type SavedState, type StateWrite, writeStates } from './scanner-store.ts';

export { SCANNER, type ScanLimits } from './scanner-config.ts';
export { correlationKey } from './episode-store.ts';

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
 * Scans one series of a batch: feeds its new buckets to the detector and each scored minute to the
 * episode state machine (episodes.ts), writing the episodes it closes or opens at once, so the next
 * series of the batch sees them; returns the state row to save with the batch (null when there was
 * nothing new).
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

  // A saved state of another detector (the default changed since it was saved; an unconfigured
  // series' config hash does not name the detector) restarts like a changed configuration.
  const detector = conf.config.detector ?? DEFAULT_DETECTOR;
  const state: DetectorState = saved && saved.config_hash === conf.hash && saved.state.detector === detector ? saved.state : createDetectorState(conf.config);
  let episode: Episode | null = saved?.open_episode_id && saved.episode_id ? savedEpisode(saved) : null;
  const save = async (e: Episode, status: 'open' | 'closed') => {
    const { id, inserted } = await saveEpisode(tx, s, state.detector, e, status);
    if (inserted) out.opened += 1;
    if (status === 'closed') out.closed += 1;
    return { ...e, id, changed: false };
  };

  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const avg = avgs[i];
    out.points += 1;
    if (avg === null || avg === undefined || !Number.isFinite(Number(avg))) continue;
    const step = advanceEpisode(episode, t, stepDetector(state, { timestamp: t, value: Number(avg) }), SCANNER);
    if (step.closed) await save(step.closed, 'closed');
    episode = step.open;
  }
  if (episode) episode = await save(episode, 'open');
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

/** The open episode a saved state row carries. */
function savedEpisode(saved: SavedState): Episode {
  return {
    id: saved.episode_id,
    startedAt: new Date(saved.episode_started_at!).getTime(),
    lastAnomalousAt: new Date(saved.last_anomalous_at ?? saved.episode_started_at!).getTime(),
    peakScore: saved.episode_peak_score!,
    peakAt: new Date(saved.episode_peak_at!).getTime(),
    explanation: saved.episode_explanation!,
    changed: false,
  };
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
