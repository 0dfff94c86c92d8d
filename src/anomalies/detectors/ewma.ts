import { resolveConfig, createBaseState, stepModel, tailFactor } from './core.ts';
import type { BaseState, ModelOps, ModelState, StepResult } from './core.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { createSeasonality, observeSeasonality, seasonalOffset } from './seasonality.ts';
import type { SeasonalityState } from './seasonality.ts';
import { floorScale, trackQuantum } from './types.ts';
import type { Detector } from './types.ts';

/** Converts a mean absolute deviation into a standard deviation for Gaussian noise. */
const MEAN_ABS_TO_STD = 1.2533;
const FAST_SPAN = 5;
/** The drift reference is this many times slower than the level. */
const SLOW_FACTOR = 10;
const RESIDUAL_SCALE_SPAN = 200;
/** Long, so a drift does not teach the detector that drifting is normal before it is flagged. */
const SHIFT_SCALE_SPAN = 1000;
/**
 * Spreads learn from |distance| winsorized at this multiple of the current spread: under normal
 * noise that costs a few percent, while a slowly growing anomaly can no longer inflate the spread
 * faster than it inflates the statistic.
 */
const SPREAD_CAP = 2;
const SPREAD_WARMUP = 30;
const SUSTAINED_WARMUP = 100;
const HUBER_SIGMAS = 3;
/** E|x_t - x_(t-1)| of white noise is this many standard deviations (sqrt(2) * sqrt(2/pi)). */
const DIFF_TO_STD = 1.1284;
/**
 * Evidence needed before slow movement counts as understood. A sustained statistic's spread mixes
 * noise (many independent samples per span) with slow movement: ramps, an undetected daily cycle,
 * a random walk. The slow part has only about one independent sample per span of the statistic's
 * slower average, and the first span only fills that average, so with `nu` = spans of history
 * minus one its variance is inflated by (1 + SLOW_EVIDENCE / nu), like a small-sample bound on a
 * variance: the statistic fades in instead of switching on, and a series whose history is mostly
 * slow movement (the first day of a daily cycle) must move well beyond what it has shown before,
 * while a noisy flat series (no slow part) keeps its full sensitivity from the start.
 */
const SLOW_EVIDENCE = 1;
/**
 * The drift statistic's usual value is averaged over this many slow spans: long, because a drift
 * that is not yet flagged still feeds it. Over one span (1000 points) it absorbed part of the
 * drift before the drift was flagged: on 96 generated drift windows that found 37, against 38
 * without the usual value and 46 with 5 spans (docs/anomaly-detection.md).
 */
const DRIFT_MEAN_SPANS = 5;

/**
 * Holt-Winters-style residuals without a trend term (trend extrapolation across gaps causes false
 * alarms): an EWMA level plus the shared seasonal profile. Besides the point residual it scores a
 * fast EWMA's distance from the level (small sustained shifts) and from a much slower reference
 * (slow drifts the level follows). Each distance is standardized by its own long-run spread, so
 * autocorrelated series and steady trends stay calibrated: the spread is measured, not assumed.
 */
export type EwmaModel = {
  season: SeasonalityState;
  span: number;
  /** Off inside the ensemble, whose robust member already judges single points. */
  pointTest: boolean;
  n: number;
  level: number;
  fast: number;
  slow: number;
  /** EW mean |value - level|. */
  absResidual: number;
  /** EW mean |fast - level|. */
  absShift: number;
  /**
   * EW mean |fast - slow - driftMean|: the drift statistic's spread around its usual value (until
   * driftMean is learned, around zero, as in states saved before it existed).
   */
  absDrift: number;
  /**
   * EW mean of fast - slow on normal points over DRIFT_MEAN_SPANS slow spans: its usual value,
   * nonzero on a steady trend (the slow reference lags it). Absent in states saved before it
   * existed (then learned from zero).
   */
  driftMean?: number;
  /**
   * EW mean |y - previous y| (deseasonalized, clipped values): the noise scale as first
   * differences see it, blind to slow movement. Absent in states saved before it existed.
   */
  absDiff?: number;
  prevY?: number | null;
  /** Smallest positive step between consecutive values (0 = none yet): the quantization floor. */
  quantum: number;
  lastValue: number | null;
};
export type EwmaState = ModelState<EwmaModel> & { detector: 'ewma' };

function pointScale(m: EwmaModel): number {
  return floorScale(Math.max(MEAN_ABS_TO_STD * m.absResidual, 0.5 * m.quantum), m.level);
}

/**
 * The fast and slow averages see values Huber-clipped at HUBER_SIGMAS (widened by the series'
 * tails): one outlier moves them by at most a third of that, so a heavy-tailed spike the point
 * test forgives cannot alarm through the sustained statistics, while a real shift still moves them.
 */
function huberClip(m: EwmaModel, y: number, base: BaseState): number {
  if (m.n < SPREAD_WARMUP) return y;
  const band = HUBER_SIGMAS * pointScale(m);
  return Math.min(m.level + band, Math.max(m.level - band, y));
}

/** EW mean of |distance|, winsorized once there is enough history to trust the current spread. */
function learnSpread(prev: number, distance: number, n: number, span: number): number {
  const d = n > SPREAD_WARMUP && prev > 0 ? Math.min(Math.abs(distance), SPREAD_CAP * prev) : Math.abs(distance);
  return prev + rate(n, span) * (d - prev);
}

/**
 * Standard deviation of (EWMA at rate a) - (EWMA at rate b) of unit white noise, in the steady
 * state: what a sustained statistic's spread would be if the series were noise around a level.
 */
function noiseSpreadFactor(a: number, b: number): number {
  const cov = (a * b) / (1 - (1 - a) * (1 - b));
  return Math.sqrt(Math.max(0, a / (2 - a) + b / (2 - b) - 2 * cov));
}

/**
 * The spread a sustained statistic is scored against: its measured spread (`observedMeanAbs`, EW
 * mean |statistic|) split into the part that faster variation explains (`noiseStd`: what the
 * statistic's spread would be if the series were only that) and the rest, slow movement, whose
 * variance is inflated while few `slowSpan`s of history back it (see SLOW_EVIDENCE).
 */
function sustainedScale(n: number, observedMeanAbs: number, noiseStd: number, slowSpan: number): number {
  const observed = MEAN_ABS_TO_STD * observedMeanAbs;
  const noise = Math.min(observed, noiseStd);
  const slowVar = observed * observed - noise * noise;
  const nu = Math.max(n / slowSpan - 1, 1e-3); // > 0: the first span gets a huge (finite) band
  return Math.sqrt(noise * noise + slowVar * (1 + SLOW_EVIDENCE / nu));
}

/**
 * The part of the drift statistic's usual value (`driftMean`) that is subtracted before scoring.
 * A steady trend keeps fast - slow off zero by slope x lag; counted as spread, that offset hid
 * drifts on trending series behind the slow-movement inflation. The mean is only an estimate from
 * about `nu` independent slow spans, so it is shrunk towards zero by its squared standard error
 * (positive-part James-Stein): a steady trend is subtracted almost entirely, while the mean of a
 * random walk's or an unseen cycle's wandering, about one standard error, is not subtracted at all.
 */
function driftOffset(m: EwmaModel): number {
  const mean = m.driftMean ?? 0;
  const nu = m.n / (m.span * SLOW_FACTOR) - 1;
  if (!(nu > 0) || mean === 0) return 0;
  const around = MEAN_ABS_TO_STD * m.absDrift;
  return mean * Math.max(0, 1 - (around * around) / nu / (mean * mean));
}

function rate(n: number, span: number): number {
  // Early on the EWMA is a plain running mean, so the first value does not dominate for a span.
  return Math.max(1 / (n + 1), 2 / (span + 1));
}

export const ewmaOps: ModelOps<EwmaModel> = {
  unit: 'stddev',
  assess(m, t, x, base) {
    if (m.n < 5) return null;
    const offset = seasonalOffset(m.season, t);
    const y = x - offset;
    const expected = m.level + offset;
    // A quantized series cannot move by less than one step; half a step is the smallest spread.
    const fastQuantum = (2 / (FAST_SPAN + 1)) * m.quantum * 0.5;
    const scale = pointScale(m);
    const pointDeviation = (y - m.level) / scale;
    const fast = m.fast + rate(m.n, FAST_SPAN) * (huberClip(m, y, base) - m.fast);
    const shift = fast - m.level;
    const usualDrift = driftOffset(m);
    const drift = fast - m.slow - usualDrift;
    // Slow movement is judged against faster variation: the shift (fast - level) against white
    // noise of the series' difference-based scale, the drift (fast - slow) against the shift's own
    // spread (so autocorrelated noise and wiggles faster than the level count as noise there).
    const fastRate = 2 / (FAST_SPAN + 1);
    const levelRate = 2 / (m.span + 1);
    const slowRate = 2 / (m.span * SLOW_FACTOR + 1);
    const shiftNoise = ((m.absDiff ?? 0) / DIFF_TO_STD) * noiseSpreadFactor(fastRate, levelRate);
    const driftNoise = MEAN_ABS_TO_STD * m.absShift * (noiseSpreadFactor(fastRate, slowRate) / noiseSpreadFactor(fastRate, levelRate));
    const shiftScale = sustainedScale(m.n, m.absShift, shiftNoise, m.span);
    // What is left of the usual value after the shrunk offset still counts as spread.
    const driftMeanAbs = Math.hypot(m.absDrift, ((m.driftMean ?? 0) - usualDrift) / MEAN_ABS_TO_STD);
    const driftScale = sustainedScale(m.n, driftMeanAbs, driftNoise, m.span * SLOW_FACTOR);
    const shiftDeviation = shift / floorScale(Math.max(shiftScale, fastQuantum), m.level);
    const driftDeviation = drift / floorScale(Math.max(driftScale, fastQuantum), m.level);
    // The drift reference is only trusted once it has seen a full slow span: before that, any
    // slow pattern (an undetected daily cycle) looks like a drift.
    const driftReady = m.n >= m.span * SLOW_FACTOR;
    const sustained = !driftReady || Math.abs(shiftDeviation) >= Math.abs(driftDeviation)
      ? { deviation: shiftDeviation, change: shift }
      : { deviation: driftDeviation, change: drift };
    // Compare like with like: the point residual's threshold is widened by heavy tails, the others' not.
    // The sustained statistics need a few spans of history before their spreads mean anything.
    if (!m.pointTest) {
      if (m.n < SUSTAINED_WARMUP) return { expected, scale, deviation: 0, change: 0, kind: 'shift', pointDeviation };
      return { expected, scale, ...sustained, kind: 'shift', pointDeviation };
    }
    if (m.n < SUSTAINED_WARMUP || Math.abs(pointDeviation) / tailFactor(base) >= Math.abs(sustained.deviation)) {
      return { expected, scale, deviation: pointDeviation, change: y - m.level, kind: 'point', pointDeviation };
    }
    return { expected, scale, ...sustained, kind: 'shift', pointDeviation };
  },
  learn(m, t, x, base, anomalous, observed) {
    trackQuantum(m, observed);
    const offsetBefore = seasonalOffset(m.season, t);
    if (observeSeasonality(m.season, t, x, m.n > 0 ? m.level : x, base.cadenceMs, !anomalous)) {
      // The profile was replaced: the level, which holds the value near t minus the old profile's
      // offset, is re-deseasonalized with the new one (otherwise the new profile's offset would be
      // counted twice and the first detection of a period would flag the rest of its phase), and
      // the averages restart from it.
      if (m.n > 0) m.level += offsetBefore - seasonalOffset(m.season, t);
      m.fast = m.level;
      // The drift statistic restarts at its usual value (see driftOffset), not at zero: on a
      // steady trend, zero would read as a drift against the trend.
      m.slow = m.level - driftOffset(m);
      m.prevY = null;
    }
    const y = x - seasonalOffset(m.season, t);
    if (m.n === 0) {
      m.level = y;
      m.fast = y;
      m.slow = y;
    }
    const r = y - m.level;
    if (!anomalous) m.absResidual = learnSpread(m.absResidual, r, m.n, RESIDUAL_SCALE_SPAN);
    const prevY = m.prevY ?? null;
    if (!anomalous && prevY !== null) m.absDiff = learnSpread(m.absDiff ?? 0, y - prevY, m.n - 1, RESIDUAL_SCALE_SPAN);
    m.prevY = y;
    const yc = huberClip(m, y, base);
    // The level holds still through an anomaly (adaptAfterMs decides when it is the new normal);
    // the fast average keeps moving so the sustained statistics keep seeing the episode.
    if (!anomalous) m.level += rate(m.n, m.span) * (yc - m.level);
    m.fast += rate(m.n, FAST_SPAN) * (yc - m.fast);
    m.slow += rate(m.n, m.span * SLOW_FACTOR) * (yc - m.slow);
    if (!anomalous) {
      m.absShift = learnSpread(m.absShift, m.fast - m.level, m.n, SHIFT_SCALE_SPAN);
      const driftMean = m.driftMean ?? 0;
      m.absDrift = learnSpread(m.absDrift, m.fast - m.slow - driftMean, m.n, SHIFT_SCALE_SPAN);
      m.driftMean = driftMean + rate(m.n, m.span * SLOW_FACTOR * DRIFT_MEAN_SPANS) * (m.fast - m.slow - driftMean);
    }
    m.n += 1;
  },
  rebase(m, shift, spread) {
    // A series that had shown no variation at all (still, apart from flagged blips) has no scale to
    // widen: it takes the adopted episode's (the widening is episode scale / point scale, capped).
    const scaleBefore = pointScale(m);
    m.level += shift;
    m.fast = m.level;
    m.slow = m.level - driftOffset(m);
    m.absResidual = m.absResidual > 0 ? m.absResidual * spread : (spread * scaleBefore) / MEAN_ABS_TO_STD;
    m.absShift *= spread;
    m.absDrift *= spread;
    // The sustained statistics' spreads are at least what white noise of the adopted residual
    // scale gives them. They are learned slowly, winsorized, and only on normal rows, so spreads
    // learned on a quiet stretch (a series that sat at 0 before its traffic began) could never
    // catch up: every row stayed "anomalous" for thousands of rows and nothing was learned.
    const fastRate = 2 / (FAST_SPAN + 1);
    m.absShift = Math.max(m.absShift, m.absResidual * noiseSpreadFactor(fastRate, 2 / (m.span + 1)));
    m.absDrift = Math.max(m.absDrift, m.absResidual * noiseSpreadFactor(fastRate, 2 / (m.span * SLOW_FACTOR + 1)));
  },
  currentScale(m) {
    return MEAN_ABS_TO_STD * m.absResidual;
  },
};

export function createEwmaState(config: DetectorConfigInput = {}): EwmaState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'ewma' });
  const resolved = resolveConfig(parsed, 'ewma', { window: 60, warmup: 30 });
  return {
    ...createBaseState(resolved),
    detector: 'ewma',
    model: {
      season: createSeasonality(resolved.seasonality),
      span: resolved.window,
      pointTest: true,
      n: 0,
      level: 0,
      fast: 0,
      slow: 0,
      absResidual: 0,
      absShift: 0,
      absDrift: 0,
      driftMean: 0,
      absDiff: 0,
      prevY: null,
      quantum: 0,
      lastValue: null,
    },
  };
}

export function stepEwma(state: EwmaState, point: DataPoint): StepResult {
  return stepModel(state, point, ewmaOps);
}

export const ewmaDetector: Detector<EwmaState> = {
  name: 'ewma',
  description: 'EWMA level + seasonal profile residuals, plus fast-vs-level and fast-vs-slow statistics for small sustained shifts and drifts.',
  createState: createEwmaState,
  step: stepEwma,
};
