import type { DataPoint, DetectorConfig, DetectorName, Direction, Seasonality } from './schemas.ts';
import { medianOf, medianSorted, robustScale } from './robust-window.ts';

/** Scores at or above this are anomalies; sensitivity moves the deviation that maps here. */
export const ANOMALY_THRESHOLD = 0.5;

const SENSITIVITY_THRESHOLDS = { low: 7, medium: 5, high: 3.5 } as const;
/** Adaptation and episode bookkeeping scale with the cadence when not configured. */
const ADAPT_AFTER_POINTS = 30;
const MAX_DEVIATION = 1e6;
const MAX_THRESHOLD_SCALE = 4;
/** Feedback raises the threshold 25% above the dismissed episode's peak, so its repeats stay quiet. */
const FEEDBACK_MARGIN = 1.25;
const EPISODE_RESIDUALS = 64;
const RECENT_EPISODES = 8;
const CADENCE_DELTAS = 33;
/**
 * Heavy tails: the engine tracks the 99th percentile of |deviation| on normal points and widens
 * the threshold by how far it sits above the Gaussian 2.576, so a series whose noise routinely
 * produces 5-sigma points stops paging for them. Capped so real anomalies still get through.
 */
const GAUSSIAN_Q99 = 2.576;
const TAIL_RATE = 0.1;
const MAX_TAIL_FACTOR = 10;
/**
 * Deviations reach the tail tracker only this many points later, and big ones are dropped when
 * more big ones follow: the onset of a shift must not teach the tracker that big is normal, while
 * isolated outliers, even ones that alarmed, are exactly what a heavy tail is (so a series whose
 * bursts recur every few hours stops paging for each one).
 */
const TAIL_DELAY = 16;

export type ResolvedConfig = {
  detector: DetectorName;
  /** Deviation (in robust standard deviations) that scores exactly 0.5 before feedback. */
  threshold: number;
  direction: Direction;
  minAbsDeviation: number;
  minRelDeviation: number;
  window: number;
  seasonality: Seasonality;
  warmup: number;
  /** null: derived from the observed cadence (see ADAPT_AFTER_POINTS). */
  adaptAfterMs: number | null;
};

export type Episode = {
  start: number;
  lastExceed: number;
  peakDeviation: number;
  /** observed - expected for every point since the episode began (latest EPISODE_RESIDUALS). */
  residuals: number[];
};

/** `adopted`: the model took the episode as its new normal (adoptEpisode); absent when it ended on its own. */
export type PastEpisode = { start: number; end: number; peakDeviation: number; adopted?: true };

/** Fields every detector state shares; everything is plain JSON (no NaN, Infinity or typed arrays). */
export type BaseState = {
  version: 1;
  detector: DetectorName;
  config: ResolvedConfig;
  /** Finite points seen. */
  count: number;
  lastTimestamp: number | null;
  /** Recent positive timestamp deltas (ring) and their median: the inferred cadence. */
  deltas: number[];
  deltaHead: number;
  cadenceMs: number | null;
  /** Multiplies the threshold; raised by "not an anomaly" feedback. */
  thresholdScale: number;
  /** Running estimate of the 99th percentile of |deviation| on non-anomalous points. */
  tailQuantile: number;
  /** |deviation| of recent normal points, waiting TAIL_DELAY points before being learned. */
  pendingTail: number[];
  episode: Episode | null;
  recentEpisodes: PastEpisode[];
};

export type Explanation = {
  detector: DetectorName;
  /** For the ensemble, the member whose score won; for `onset`, its member or `onset` (its own channels). */
  component: DetectorName;
  status: 'scored' | 'warmup' | 'skipped';
  expected: number | null;
  /** Band outside of which the score exceeds ANOMALY_THRESHOLD. */
  lower: number | null;
  upper: number | null;
  observed: number | null;
  /** Signed, in robust standard deviations (MAD-based for robust detectors). */
  deviation: number;
  unit: 'stddev' | 'mad';
  /**
   * 'point': this value against the band. 'sustained': a recent average against the baseline
   * (EWMA shift/drift statistics; `onset`'s ratio channel: the last two values against the recent
   * level, relatively), which can flag values still inside the band. 'spread': the
   * series' recent variability against its usual one (`onset`: a flatline or a variance drop);
   * `deviation` is then in standard deviations of that statistic, negative = less variable.
   */
  statistic: 'point' | 'sustained' | 'spread';
  direction: 'up' | 'down' | 'none';
};

export type StepResult = {
  score: number;
  /** The score pages: score >= ANOMALY_THRESHOLD (for `onset`, an anomaly starts or becomes newly visible here). */
  anomalous: boolean;
  explanation: Explanation;
  /**
   * The series is still outside its normal band although nothing new happened (`onset`: its member
   * still flags the value). Episodes stay open through such minutes; it never opens one and never
   * pages. Absent: the same as `anomalous`.
   */
  persisting?: boolean;
  /**
   * `onset`: the row would have paged but the series' false-alarm budget for the day is spent
   * (its raised bar kept the score below the threshold); the state counts these rows.
   */
  suppressed?: boolean;
};

/** What a model says about the next value before learning it. */
export type Assessment = {
  expected: number;
  scale: number;
  /** Signed deviation in units of scale (a model may use a statistic other than the point residual). */
  deviation: number;
  /** The change in series units that `deviation` measures; compared with the minimum deviations. */
  change: number;
  /**
   * 'point': a single value's residual, whose threshold widens with the series' observed tails.
   * 'shift': an average over many points (EWMA distances), already calibrated by its own spread
   * and left alone, so a slow drift cannot raise its own threshold.
   */
  kind?: 'point' | 'shift';
  /** The point residual's deviation, which the tail tracker learns from (defaults to deviation). */
  pointDeviation?: number;
};

export type ModelOps<M> = {
  unit: 'stddev' | 'mad';
  /** Returns null while the model cannot predict yet. Must not mutate the model. */
  assess(model: M, timestamp: number, value: number, base: BaseState): Assessment | null;
  /**
   * `anomalous`: the value exceeded the band (`value` is then clipped into it). Window models skip
   * it, so a sustained shift stays flagged until adaptAfterMs adopts it; `observed` is the raw value,
   * for what clipping would destroy (the quantization step).
   */
  learn(model: M, timestamp: number, value: number, base: BaseState, anomalous: boolean, observed: number): void;
  /** Moves the baseline by `shift` and multiplies its spread by `spread` (>= 1): the new normal. */
  rebase(model: M, shift: number, spread: number): void;
  /** The model's current spread, used to size a rebase outside of a step (feedback). */
  currentScale(model: M): number;
};

export type ModelState<M> = BaseState & { model: M };

export function resolveThreshold(sensitivity: DetectorConfig['sensitivity']): number {
  return typeof sensitivity === 'number' ? sensitivity : SENSITIVITY_THRESHOLDS[sensitivity];
}

export function resolveConfig(
  config: DetectorConfig,
  detector: DetectorName,
  defaults: { window: number; warmup: number },
): ResolvedConfig {
  return {
    detector,
    threshold: resolveThreshold(config.sensitivity),
    direction: config.direction,
    minAbsDeviation: config.minAbsDeviation,
    minRelDeviation: config.minRelDeviation,
    window: config.window ?? defaults.window,
    seasonality: config.seasonality,
    warmup: config.warmup ?? defaults.warmup,
    adaptAfterMs: config.adaptAfterMs ?? null,
  };
}

export function createBaseState(config: ResolvedConfig): BaseState {
  return {
    version: 1,
    detector: config.detector,
    config,
    count: 0,
    lastTimestamp: null,
    deltas: [],
    deltaHead: 0,
    cadenceMs: null,
    thresholdScale: 1,
    tailQuantile: GAUSSIAN_Q99,
    pendingTail: [],
    episode: null,
    recentEpisodes: [],
  };
}

/**
 * Maps a deviation to [0, 1]: exactly 0.5 at the threshold, ~0.06 at half of it, ~0.94 at twice
 * it. A smooth curve (rather than 0/1) keeps scores rankable when a benchmark picks its own cut.
 */
export function scoreDeviation(deviation: number, threshold: number): number {
  if (!(deviation > 0)) return 0;
  const r = deviation / threshold;
  const r4 = r * r * r * r;
  return Number.isFinite(r4) ? r4 / (1 + r4) : 1;
}

export function observeCadence(state: BaseState, timestamp: number): void {
  const last = state.lastTimestamp;
  state.lastTimestamp = timestamp;
  if (last === null) return;
  const delta = timestamp - last;
  // Duplicates and out-of-order points say nothing about the cadence.
  if (!(delta > 0)) return;
  if (state.deltas.length < CADENCE_DELTAS) state.deltas.push(delta);
  else {
    state.deltas[state.deltaHead] = delta;
    state.deltaHead = (state.deltaHead + 1) % CADENCE_DELTAS;
  }
  // The median ignores gaps; recomputing it every point is wasted work on long series.
  if (state.count < 64 || state.count % 16 === 0 || state.cadenceMs === null) {
    state.cadenceMs = medianOf(state.deltas);
  }
}

export function adaptAfterMs(state: BaseState): number {
  return state.config.adaptAfterMs ?? ADAPT_AFTER_POINTS * (state.cadenceMs ?? 60_000);
}

function episodeGapMs(state: BaseState): number {
  return Math.max(3 * (state.cadenceMs ?? 60_000), adaptAfterMs(state) / 4);
}

function emptyExplanation(state: BaseState, status: Explanation['status'], observed: number | null, unit: Explanation['unit']): Explanation {
  return {
    detector: state.detector,
    component: state.detector,
    status,
    expected: null,
    lower: null,
    upper: null,
    observed,
    deviation: 0,
    unit,
    statistic: 'point',
    direction: 'none',
  };
}

export function isUsablePoint(point: DataPoint): boolean {
  return Number.isFinite(point.timestamp) && Number.isFinite(point.value);
}

export function skippedResult(state: BaseState, point: DataPoint, unit: Explanation['unit']): StepResult {
  const observed = Number.isFinite(point.value) ? point.value : null;
  return { score: 0, anomalous: false, explanation: emptyExplanation(state, 'skipped', observed, unit) };
}

function closeEpisode(state: BaseState, adopted = false): void {
  const ep = state.episode;
  if (!ep) return;
  state.recentEpisodes.push({ start: ep.start, end: ep.lastExceed, peakDeviation: ep.peakDeviation, ...(adopted ? { adopted: true as const } : {}) });
  if (state.recentEpisodes.length > RECENT_EPISODES) state.recentEpisodes.shift();
  state.episode = null;
}

function detrendLinear(values: number[]): number[] {
  const n = values.length;
  if (n < 3) return values;
  const meanX = (n - 1) / 2;
  const meanY = values.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  values.forEach((y, x) => {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  });
  const slope = sxy / sxx;
  return values.map((y, x) => y - meanY - slope * (x - meanX));
}

/**
 * Accepts the current episode as the new normal: the baseline moves to the episode's recent
 * median and widens if the episode is noisier than the baseline.
 */
export function adoptEpisode<M>(state: ModelState<M>, ops: ModelOps<M>, currentScale: number): void {
  const ep = state.episode;
  if (!ep || ep.residuals.length === 0) {
    closeEpisode(state);
    return;
  }
  const recent = ep.residuals.slice(-16);
  const shift = medianOf(recent);
  // Spread around a straight line: an adopted ramp (a drift) is level, not noise, and counting it
  // as noise would blind the detector to the next drift.
  const spreadSample = detrendLinear(ep.residuals.slice(-32)).sort((a, b) => a - b);
  const episodeScale = robustScale(spreadSample, medianSorted(spreadSample));
  const ratio = currentScale > 0 ? episodeScale / currentScale : 1;
  ops.rebase(state.model, shift, ratio > 1.2 && Number.isFinite(ratio) ? Math.min(ratio, 100) : 1);
  closeEpisode(state, true);
}

/**
 * The shared streaming step: skips unusable points, infers the cadence, scores the point against
 * the model's prediction, tracks anomalous episodes and adopts sustained ones after adaptAfterMs,
 * and lets the model learn the value (models keep anomalous values out of their baselines, so one
 * outlier cannot drag them). Mutates `state` in place (a scanner would otherwise copy whole windows
 * per point).
 */
export function stepModel<M>(state: ModelState<M>, point: DataPoint, ops: ModelOps<M>): StepResult {
  if (!isUsablePoint(point)) return skippedResult(state, point, ops.unit);
  const { timestamp: t, value: x } = point;
  observeCadence(state, t);
  const a = ops.assess(state.model, t, x, state);
  state.count += 1;
  if (a === null || state.count <= state.config.warmup) {
    ops.learn(state.model, t, x, state, false, x);
    return { score: 0, anomalous: false, explanation: emptyExplanation(state, 'warmup', x, ops.unit) };
  }

  const cfg = state.config;
  const k = a.kind === 'shift' ? cfg.threshold * state.thresholdScale : effectiveThreshold(state);
  const deviation = Math.max(-MAX_DEVIATION, Math.min(MAX_DEVIATION, a.deviation));
  const absChange = Math.abs(a.change);
  const tiny = absChange < cfg.minAbsDeviation || absChange < cfg.minRelDeviation * Math.abs(a.expected);
  const directional = cfg.direction === 'up' ? deviation : cfg.direction === 'down' ? -deviation : Math.abs(deviation);
  const score = tiny ? 0 : scoreDeviation(directional, k);
  // Adaptation ignores the direction filter: a drop is still the new normal for an 'up' detector.
  const exceeds = !tiny && Math.abs(deviation) >= k;

  trackEpisode(state, t, exceeds, Math.abs(deviation), x - a.expected);

  // The band is always the point band, even when a sustained statistic did the scoring.
  const bandK = a.kind === 'shift' ? effectiveThreshold(state) : k;
  const lower = a.expected - bandK * a.scale;
  const upper = a.expected + bandK * a.scale;
  ops.learn(state.model, t, exceeds ? Math.min(upper, Math.max(lower, x)) : x, state, exceeds, x);
  deferTail(state, tiny, Math.abs(a.pointDeviation ?? deviation));

  const ep = state.episode;
  if (ep && exceeds && t - ep.start >= adaptAfterMs(state)) adoptEpisode(state, ops, a.scale);

  return {
    score,
    anomalous: score >= ANOMALY_THRESHOLD,
    explanation: {
      detector: state.detector,
      component: state.detector,
      status: 'scored',
      expected: a.expected,
      lower,
      upper,
      observed: x,
      deviation,
      unit: ops.unit,
      statistic: a.kind === 'shift' ? 'sustained' : 'point',
      direction: deviation > 0 ? 'up' : deviation < 0 ? 'down' : 'none',
    },
  };
}

/** How much wider than Gaussian the series' point residuals are (1 to MAX_TAIL_FACTOR). */
export function tailFactor(state: BaseState): number {
  return Math.min(MAX_TAIL_FACTOR, Math.max(1, state.tailQuantile / GAUSSIAN_Q99));
}

export function effectiveThreshold(state: BaseState): number {
  return state.config.threshold * state.thresholdScale * tailFactor(state);
}

function deferTail(state: BaseState, tiny: boolean, absDeviation: number): void {
  if (tiny) return;
  state.pendingTail.push(absDeviation);
  if (state.pendingTail.length <= TAIL_DELAY) return;
  const d = state.pendingTail.shift()!;
  // Heavy tails are isolated big points; big points in a cluster are a regime change (a shift, a
  // variance change, a broken season) that the threshold must stay able to catch.
  if (d > state.tailQuantile) {
    let bigNeighbours = 0;
    for (const later of state.pendingTail) if (later > state.tailQuantile) bigNeighbours++;
    if (bigNeighbours >= 2) return;
  }
  trackTail(state, d);
}

/** Multiplicative stochastic quantile tracking: settles where P(|d| > q) = 1%. */
function trackTail(state: BaseState, absDeviation: number): void {
  state.tailQuantile *= absDeviation > state.tailQuantile ? 1 + TAIL_RATE * 0.99 : 1 - TAIL_RATE * 0.01;
  state.tailQuantile = Math.min(GAUSSIAN_Q99 * MAX_TAIL_FACTOR * 2, Math.max(GAUSSIAN_Q99 / 2, state.tailQuantile));
}

function trackEpisode(state: BaseState, t: number, exceeds: boolean, absDeviation: number, residual: number): void {
  let ep = state.episode;
  if (ep && t - ep.lastExceed > episodeGapMs(state)) {
    closeEpisode(state);
    ep = null;
  }
  if (exceeds) {
    if (!ep) {
      ep = { start: t, lastExceed: t, peakDeviation: 0, residuals: [] };
      state.episode = ep;
    }
    ep.lastExceed = t;
    ep.peakDeviation = Math.max(ep.peakDeviation, absDeviation);
  }
  if (ep) {
    ep.residuals.push(residual);
    if (ep.residuals.length > EPISODE_RESIDUALS) ep.residuals.shift();
  }
}

/**
 * "This episode was not an anomaly": raise the threshold to 25% above the episode's peak deviation
 * (capped at MAX_THRESHOLD_SCALE times the configured one), and if the episode is still running,
 * accept its level as normal right away. Without a matching episode the threshold still rises by
 * 25%, since the user saw something from this series they did not want.
 */
export function applyModelFeedback<M>(
  state: ModelState<M>,
  ops: ModelOps<M>,
  from: number,
  to: number,
): void {
  const overlaps = (s: number, e: number) => s <= to && e >= from;
  const current = state.episode && overlaps(state.episode.start, state.episode.lastExceed) ? state.episode : null;
  const past = state.recentEpisodes.filter((e) => overlaps(e.start, e.end));
  const peaks = [...past.map((e) => e.peakDeviation), ...(current ? [current.peakDeviation] : [])];
  // Threshold without the feedback factor, so the new factor is relative to what scored the peak.
  const base = effectiveThreshold(state) / state.thresholdScale;
  const wanted = peaks.length > 0 ? (Math.max(...peaks) * FEEDBACK_MARGIN) / base : state.thresholdScale * FEEDBACK_MARGIN;
  state.thresholdScale = Math.min(MAX_THRESHOLD_SCALE, Math.max(state.thresholdScale, wanted));
  if (current) adoptEpisode(state, ops, ops.currentScale(state.model));
}
