import { ANOMALY_THRESHOLD, isUsablePoint, resolveConfig, skippedResult } from './core.ts';
import type { BaseState, StepResult } from './core.ts';
import { createEwmaState, stepEwma } from './ewma.ts';
import type { EwmaState } from './ewma.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import type { Detector } from './types.ts';

/**
 * Onset scores (the default detector; docs/anomaly-detection.md, "Score semantics"): a row's score
 * is the belief that an anomaly starts or becomes newly visible at that row, i.e. what should page
 * a person. While an anomaly persists and nothing new happens, scores fall back at once.
 *
 * 1. Raw ratio: the `ewma` member's deviation over its own threshold (1 = where `ewma` alone would
 *    score 0.5), recovered from its score, so its seasonality, heavy-tail widening, direction,
 *    minimum deviations and feedback all apply.
 * 2. Calibration ("anomaly likelihood"), at SHORT_SPANS time scales: an EW average of
 *    u = log(1 + ratio) is compared with its own long-run distribution, giving a tail probability;
 *    the surprise is -log10 of the smallest one, less log10(scales) (Bonferroni).
 *    - Single rows (span 1) have heavy, quantised tails on real series: empirical tail from an EW
 *      histogram up to its TAIL_LEVEL quantile, above it an exponential tail in u (peaks over
 *      threshold; a Pareto tail of the ratio) with a winsorized mean excess learned from a prior.
 *    - Averages (longer spans) are close to Gaussian: Gaussian tail against their EW mean and
 *      standard deviation (learned winsorized).
 * 3. Onset gate: `memory` is a running maximum of recent surprises that decays with a half-life;
 *    a row counts min(surprise, (surprise - memory) / GATE_MARGIN), so only what beats what was
 *    already seen scores. Recovery: when an onset is reported, the point band of the last normal
 *    row is frozen for RECOVERY_ROWS rows, and a value back inside it (the series returning to its
 *    previous normal) has its surprise cut to RECOVERY_FACTOR.
 * 4. score = q^2 / (1 + q^2), q = gated surprise / (HALF_SCORE_SURPRISE x sensitivity x feedback).
 *
 * Every constant below was chosen by `npm run eval:anomalies` on both suites (synthetic and
 * recorded), never on a public benchmark.
 */
export const ONSET_TUNING = {
  /** EW spans (rows) of the averages of u that are calibrated: several time scales. */
  shortSpans: [1, 6, 30],
  /** EW span (rows) of the long-run distributions the averages are compared with. */
  longSpan: 1500,
  /**
   * Rows of raw ratios the calibration learns before it scores. Until then the member scores,
   * gated for onsets (warmupRepeat), so a new series is not blind for its first hours.
   */
  calWarmup: 200,
  /** While the calibration warms up: a row after one the member flagged scores this fraction of the member's score. */
  warmupRepeat: 0.1,
  /** Gaussian scales: learning winsorized at mean + this many standard deviations. */
  learnCap: 4,
  /** Gaussian scales: floors of the standard deviation (absolute, and relative to the mean). */
  minSpread: 0.05,
  minRelSpread: 0.1,
  /** Gaussian scales: spread widened by sqrt(1 + smallSample x span / rows seen). */
  smallSample: 32,
  /** Single rows: quantile above which the exponential tail is used. */
  tailLevel: 0.98,
  /** Single rows: prior and floor of the mean excess over that quantile (units of u). */
  priorExcess: 0.15,
  minExcess: 0.03,
  /** Single rows: excesses learned winsorized at this multiple of the current mean, at most at this rate. */
  excessCap: 3,
  maxExcessRate: 0.2,
  /** Half-life (rows) of the memory of recent surprises. */
  memoryHalfLife: 200,
  /** A row counts (surprise - memory) / gateMargin, at most its surprise. */
  gateMargin: 0.33,
  /** Surprise cap (decades). */
  maxSurprise: 20,
  /** Recovery: rows after an onset during which a return to the previous band is discounted. */
  recoveryRows: 300,
  recoveryFactor: 0.2,
  /** Recovery: a gated surprise this high is an onset; below normalSurprise a row is normal. */
  recoveryOnset: 3,
  normalSurprise: 2,
  /** Surprise (decades) at which the score is 0.5 at medium sensitivity. */
  halfScoreSurprise: 4,
};

const HIST_BINS = 64;
const HIST_WIDTH = 0.05;
const LN10 = Math.log(10);
/** Medium sensitivity's threshold in robust sigmas: sensitivity scales the surprise relative to it. */
const MEDIUM_THRESHOLD = 5;

/** One time scale's calibration. */
type Scale = {
  span: number;
  /** EW average of u over `span` rows. */
  short: number;
  /** Gaussian scales: EW mean and variance of `short`. */
  mean: number;
  var: number;
  /** Single rows: EW histogram of u (HIST_BINS bins of HIST_WIDTH; lazy decay through `weight`). */
  hist?: number[];
  total?: number;
  weight?: number;
  /** Single rows: EW mean excess over the tail quantile. */
  excess?: number;
};

export type Calibrator = {
  /** Raw ratios seen. */
  n: number;
  scales: Scale[];
};

export type OnsetState = {
  version: 1;
  detector: 'onset';
  config: BaseState['config'];
  parts: { ewma: EwmaState };
  cal: Calibrator;
  /** Decaying running maximum of recent surprises (decades). */
  memory: number;
  /** Usable rows stepped. */
  rows: number;
  /** The member's point band at the last normal row, and the one frozen at the last onset. */
  band?: { lower: number; upper: number };
  ref?: { at: number; lower: number; upper: number };
  /** The member's score at the previous scored row and its time, while the calibration warms up. */
  warmPrev?: number;
  warmPrevAt?: number;
};

function createCalibrator(): Calibrator {
  return {
    n: 0,
    scales: ONSET_TUNING.shortSpans.map((span) => ({
      span,
      short: 0,
      mean: 0,
      var: 0,
      ...(span === 1 ? { hist: new Array<number>(HIST_BINS).fill(0), total: 0, weight: 1, excess: ONSET_TUNING.priorExcess } : {}),
    })),
  };
}

export function createOnsetState(config: DetectorConfigInput = {}): OnsetState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'onset' });
  // The member keeps the medium sensitivity: sensitivity moves the surprise that pages (below), so
  // scores are monotonic in it.
  const memberConfig = { ...config };
  delete memberConfig.detector;
  delete memberConfig.sensitivity;
  return {
    version: 1,
    detector: 'onset',
    config: resolveConfig(parsed, 'onset', { window: 60, warmup: 30 }),
    parts: { ewma: createEwmaState(memberConfig) },
    cal: createCalibrator(),
    memory: 0,
    rows: 0,
  };
}

/** Inverts the members' score curve r^4 / (1 + r^4): the deviation over the member's threshold. */
function ratioOf(score: number): number {
  if (!(score > 0)) return 0;
  if (score >= 1) return 1e4;
  return Math.min(1e4, Math.pow(score / (1 - score), 0.25));
}

/** -log10 of the standard normal upper tail at z (0 for z <= 0). */
export function gaussianSurprise(z: number): number {
  if (!(z > 0)) return 0;
  if (z < 5) {
    // Abramowitz-Stegun 7.1.26 erfc approximation (|error| < 1.5e-7).
    const x = z / Math.SQRT2;
    const t = 1 / (1 + 0.3275911 * x);
    const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    return -Math.log10(Math.max(0.5 * poly * Math.exp(-x * x), 1e-300));
  }
  // Asymptotic tail: Q(z) ~ phi(z) / z * (1 - 1/z^2).
  const lnQ = -0.5 * z * z - Math.log(z * Math.sqrt(2 * Math.PI)) + Math.log(1 - 1 / (z * z));
  return -lnQ / LN10;
}

function histBin(u: number): number {
  return Math.min(HIST_BINS - 1, Math.max(0, Math.floor(u / HIST_WIDTH)));
}

/** Mass of the histogram at or above u (linear inside the bin). */
function massAbove(h: number[], u: number): number {
  const b = histBin(u);
  let m = 0;
  for (let i = HIST_BINS - 1; i > b; i--) m += h[i]!;
  const frac = b === HIST_BINS - 1 ? 1 : Math.min(1, Math.max(0, b + 1 - u / HIST_WIDTH));
  return m + h[b]! * frac;
}

/** The value above which `mass` of the histogram lies. */
function quantileAbove(h: number[], mass: number): number {
  let m = 0;
  for (let i = HIST_BINS - 1; i >= 0; i--) {
    const next = m + h[i]!;
    if (next >= mass) {
      const inside = h[i]! > 0 ? (mass - m) / h[i]! : 0;
      return (i + 1 - inside) * HIST_WIDTH;
    }
    m = next;
  }
  return 0;
}

/** Single rows: empirical tail up to the TAIL_LEVEL quantile, exponential above it. */
function tailSurprise(s: Scale, u: number): number {
  const P = ONSET_TUNING;
  const h = s.hist!;
  const total = s.total!;
  if (!(total > 0)) return 0;
  const tailMass = (1 - P.tailLevel) * total;
  const q = quantileAbove(h, tailMass);
  if (u <= q) return -Math.log10(Math.min(1, Math.max(massAbove(h, u), tailMass) / total));
  return -Math.log10(1 - P.tailLevel) + (u - q) / (Math.max(s.excess!, P.minExcess) * LN10);
}

function tailLearn(s: Scale, u: number, alpha: number): void {
  const P = ONSET_TUNING;
  const h = s.hist!;
  if (s.total! > 0) {
    const q = quantileAbove(h, (1 - P.tailLevel) * s.total!);
    if (u > q) {
      // Winsorized, and from a prior, so one early outlier cannot make the tail look heavy (which
      // would hide the next anomaly).
      const y = Math.min(u - q, P.excessCap * Math.max(s.excess!, P.minExcess));
      s.excess! += Math.min(P.maxExcessRate, alpha / (1 - P.tailLevel)) * (y - s.excess!);
    }
  }
  h[histBin(u)]! += s.weight!;
  s.total! += s.weight!;
  s.weight! /= 1 - alpha;
  if (s.weight! > 1e6) {
    const k = 1 / s.weight!;
    for (let i = 0; i < HIST_BINS; i++) h[i]! *= k;
    s.total! *= k;
    s.weight = 1;
  }
}

/** Surprise (decades) of this raw ratio against the calibrator's history; then learns it. */
function calibrate(c: Calibrator, ratio: number): number {
  const P = ONSET_TUNING;
  const u = Math.log1p(ratio);
  c.n += 1;
  const warm = c.n > P.calWarmup;
  const alpha = Math.max(1 / c.n, 1 / P.longSpan);
  let surprise = 0;
  for (const s of c.scales) {
    s.short = c.n === 1 ? u : s.short + (2 / (s.span + 1)) * (u - s.short);
    if (s.hist) {
      if (warm) surprise = Math.max(surprise, tailSurprise(s, s.short));
      tailLearn(s, s.short, alpha);
      continue;
    }
    const sd = Math.max(Math.sqrt(s.var), P.minSpread, P.minRelSpread * s.mean);
    // Few independent averages of `span` rows so far: widen like a small-sample bound, so slow
    // movement not yet seen (the first day of a daily cycle) does not look like an anomaly.
    const inflate = Math.sqrt(1 + (P.smallSample * s.span) / Math.min(c.n, P.longSpan));
    if (warm) surprise = Math.max(surprise, gaussianSurprise((s.short - s.mean) / (sd * inflate)));
    // Winsorized, so one extreme stretch cannot blind the series for long.
    const d = (c.n === 1 ? s.short : Math.min(s.short, s.mean + P.learnCap * sd)) - s.mean;
    s.mean += alpha * d;
    s.var = (1 - alpha) * (s.var + alpha * d * d);
  }
  return warm ? Math.min(P.maxSurprise, Math.max(0, surprise - Math.log10(c.scales.length))) : 0;
}

export function stepOnset(state: OnsetState, point: DataPoint): StepResult {
  if (!isUsablePoint(point)) {
    const skipped = skippedResult(state.parts.ewma, point, 'stddev');
    return { ...skipped, explanation: { ...skipped.explanation, detector: 'onset' } };
  }
  const P = ONSET_TUNING;
  const member = stepEwma(state.parts.ewma, point);
  const e = member.explanation;
  let surprise = e.status === 'scored' ? calibrate(state.cal, ratioOf(member.score)) : 0;
  let gated = 0;
  let score: number;
  if (state.cal.n <= P.calWarmup) {
    // The calibration is still learning the series: the member's own score, but only the first row
    // of a run of its flags pages (a shift that persists is not news on every row). A run ends at a
    // gap of more than 3 cadences: a series that comes back after a silence is news again.
    const recent = state.warmPrevAt !== undefined && point.timestamp - state.warmPrevAt <= 3 * (state.parts.ewma.cadenceMs ?? 60_000);
    const prev = recent ? (state.warmPrev ?? 0) : 0;
    if (e.status === 'scored') {
      state.warmPrev = member.score;
      state.warmPrevAt = point.timestamp;
    }
    score = prev >= ANOMALY_THRESHOLD ? member.score * P.warmupRepeat : member.score;
  } else {
    // Recovery: after an onset, a value back inside the band that was normal before it is not news.
    const ref = state.ref;
    if (ref && state.rows - ref.at <= P.recoveryRows && e.observed !== null && e.observed >= ref.lower && e.observed <= ref.upper) {
      surprise *= P.recoveryFactor;
    }

    // Onset gate: only what beats the decaying memory of recent surprises counts.
    const excess = surprise - state.memory;
    gated = excess <= 0 ? 0 : Math.min(surprise, excess / P.gateMargin);
    state.memory = Math.max(state.memory * Math.pow(0.5, 1 / P.memoryHalfLife), surprise);

    // Sensitivity and "not an anomaly" feedback move the surprise that scores 0.5: medium (5 robust
    // sigmas) keeps halfScoreSurprise, high (3.5) lowers it, low (7) raises it; feedback multiplies
    // it by the raise recorded in the member.
    const half = P.halfScoreSurprise * (state.config.threshold / MEDIUM_THRESHOLD) * state.parts.ewma.thresholdScale;
    const q = gated / half;
    score = (q * q) / (1 + q * q);
  }

  state.rows += 1;
  if (e.status === 'scored' && e.lower !== null && e.upper !== null) {
    if (gated >= P.recoveryOnset) {
      if (!state.ref || state.rows - state.ref.at > P.recoveryRows) {
        state.ref = { at: state.rows, lower: state.band?.lower ?? e.lower, upper: state.band?.upper ?? e.upper };
      }
    } else if (surprise < P.normalSurprise) state.band = { lower: e.lower, upper: e.upper };
  }
  return {
    score,
    anomalous: score >= ANOMALY_THRESHOLD,
    explanation: { ...e, detector: 'onset', component: e.detector },
    persisting: member.anomalous,
  };
}

export const onsetDetector: Detector<OnsetState> = {
  name: 'onset',
  description: 'Onset scores: the ewma detector\'s deviations calibrated against their own history at three time scales (anomaly likelihood), reported when newly surprising.',
  createState: createOnsetState,
  step: stepOnset,
};
