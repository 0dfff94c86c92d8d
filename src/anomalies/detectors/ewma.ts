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
  /** EW mean |fast - slow|. */
  absDrift: number;
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
    const drift = fast - m.slow;
    // Slow movement is judged against faster variation: the shift (fast - level) against white
    // noise of the series' difference-based scale, the drift (fast - slow) against the shift's own
    // spread (so autocorrelated noise and wiggles faster than the level count as noise there).
    const fastRate = 2 / (FAST_SPAN + 1);
    const levelRate = 2 / (m.span + 1);
    const slowRate = 2 / (m.span * SLOW_FACTOR + 1);
    const shiftNoise = ((m.absDiff ?? 0) / DIFF_TO_STD) * noiseSpreadFactor(fastRate, levelRate);
    const driftNoise = MEAN_ABS_TO_STD * m.absShift * (noiseSpreadFactor(fastRate, slowRate) / noiseSpreadFactor(fastRate, levelRate));
    const shiftScale = sustainedScale(m.n, m.absShift, shiftNoise, m.span);
    const driftScale = sustainedScale(m.n, m.absDrift, driftNoise, m.span * SLOW_FACTOR);
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
      m.slow = m.level;
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
      m.absDrift = learnSpread(m.absDrift, m.fast - m.slow, m.n, SHIFT_SCALE_SPAN);
    }
    m.n += 1;
  },
  rebase(m, shift, spread) {
    m.level += shift;
    m.fast = m.level;
    m.slow = m.level;
    m.absResidual *= spread;
    m.absShift *= spread;
    m.absDrift *= spread;
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
