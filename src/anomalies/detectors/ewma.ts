import { resolveConfig, createBaseState, stepModel } from './core.ts';
import type { ModelOps, ModelState, StepResult } from './core.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { createSeasonality, observeSeasonality, seasonalOffset } from './seasonality.ts';
import type { SeasonalityState } from './seasonality.ts';
import { floorScale } from './types.ts';
import type { Detector } from './types.ts';

/** Converts a mean absolute deviation into a standard deviation for Gaussian noise. */
const MEAN_ABS_TO_STD = 1.2533;
const FAST_SPAN = 5;
const SCALE_SPAN = 200;

/**
 * Holt-Winters-style residuals without a trend term (trend extrapolation across gaps causes false
 * alarms): a slow EWMA level plus the shared seasonal profile. Besides the point residual it scores
 * a fast EWMA's distance from the slow level, standardized by that distance's own long-run spread,
 * which picks up small sustained shifts and drifts long before any single point is extreme, and
 * stays calibrated on autocorrelated series because the spread is measured, not assumed.
 */
export type EwmaModel = {
  season: SeasonalityState;
  span: number;
  n: number;
  level: number;
  fast: number;
  /** EW mean |value - level|. */
  absResidual: number;
  /** EW mean |fast - level|. */
  absShift: number;
};
export type EwmaState = ModelState<EwmaModel> & { detector: 'ewma' };

function rate(n: number, span: number): number {
  // Early on the EWMA is a plain running mean, so the first value does not dominate for a span.
  return Math.max(1 / (n + 1), 2 / (span + 1));
}

export const ewmaOps: ModelOps<EwmaModel> = {
  unit: 'stddev',
  assess(m, t, x) {
    if (m.n < 5) return null;
    const offset = seasonalOffset(m.season, t);
    const y = x - offset;
    const expected = m.level + offset;
    const scale = floorScale(MEAN_ABS_TO_STD * m.absResidual, m.level);
    const pointDev = (y - m.level) / scale;
    const fast = m.fast + rate(m.n, FAST_SPAN) * (y - m.fast);
    const shift = fast - m.level;
    const shiftDev = shift / floorScale(MEAN_ABS_TO_STD * m.absShift, m.level);
    return Math.abs(pointDev) >= Math.abs(shiftDev)
      ? { expected, scale, deviation: pointDev, change: y - m.level }
      : { expected, scale, deviation: shiftDev, change: shift };
  },
  learn(m, t, x, base) {
    if (observeSeasonality(m.season, t, x, m.n > 0 ? m.level : x, base.cadenceMs)) {
      // The level absorbed the seasonal swing so far; the fast average restarts from it.
      m.fast = m.level;
    }
    const y = x - seasonalOffset(m.season, t);
    if (m.n === 0) {
      m.level = y;
      m.fast = y;
    }
    const a = rate(m.n, m.span);
    const r = y - m.level;
    const scaleRate = rate(m.n, SCALE_SPAN);
    m.absResidual += scaleRate * (Math.abs(r) - m.absResidual);
    m.level += a * r;
    m.fast += rate(m.n, FAST_SPAN) * (y - m.fast);
    m.absShift += scaleRate * (Math.abs(m.fast - m.level) - m.absShift);
    m.n += 1;
  },
  rebase(m, shift, spread) {
    m.level += shift;
    m.fast = m.level;
    m.absResidual *= spread;
    m.absShift *= spread;
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
      n: 0,
      level: 0,
      fast: 0,
      absResidual: 0,
      absShift: 0,
    },
  };
}

export function stepEwma(state: EwmaState, point: DataPoint): StepResult {
  return stepModel(state, point, ewmaOps);
}

export const ewmaDetector: Detector<EwmaState> = {
  name: 'ewma',
  description: 'EWMA level + seasonal profile residuals, plus a fast-vs-slow mean-shift statistic for small sustained shifts and drifts.',
  createState: createEwmaState,
  step: stepEwma,
};
