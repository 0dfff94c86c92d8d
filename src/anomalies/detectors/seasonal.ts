import { resolveConfig, createBaseState, stepModel } from './core.ts';
import type { ModelOps, ModelState, StepResult } from './core.ts';
import { createRobustWindow, medianSorted, orderedRobustWindow, pushRobustWindow, remapRobustWindow, robustScale } from './robust-window.ts';
import type { RobustWindow } from './robust-window.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { createSeasonality, observeSeasonality, seasonalOffset } from './seasonality.ts';
import type { SeasonalityState } from './seasonality.ts';
import { floorScale, trackQuantum } from './types.ts';
import type { Detector } from './types.ts';

/**
 * expected = robust level + seasonal profile at this time of day / week. The level is the median of
 * the deseasonalized window; the spread is the floored MAD of a residual window RESIDUAL_WINDOWS
 * times longer, because a short window fills with the deviations of a slowly unfolding anomaly (a
 * day without its daily peak) and widens the band before the anomaly peaks. Raw values and times
 * are kept beside the window to re-deseasonalize it when a period is found.
 */
export type SeasonalModel = {
  season: SeasonalityState;
  window: RobustWindow;
  /** Deseasonalized value minus the level at the time it was learned. */
  residuals: RobustWindow;
  /**
   * spreadOf(residuals), refreshed every SPREAD_REFRESH points: the long window's MAD is the
   * dominant per-point cost and moves slowly.
   */
  spread: number;
  spreadAge: number;
  raws: number[];
  times: number[];
  /**
   * Smallest positive step between consecutive raw values (0 = none yet). Deseasonalized values are
   * no longer on the quantization grid, so the MAD floor needs the step from the raw series.
   */
  quantum: number;
  lastValue: number | null;
};
export type SeasonalState = ModelState<SeasonalModel> & { detector: 'seasonal' };

const RESIDUAL_WINDOWS = 4;
const SPREAD_REFRESH = 8;

function spreadOf(m: SeasonalModel): number {
  const r = m.residuals.sorted;
  return robustScale(r, medianSorted(r), m.quantum);
}

function refreshSpread(m: SeasonalModel): void {
  m.spread = spreadOf(m);
  m.spreadAge = 0;
}

function rebuildWindow(m: SeasonalModel): void {
  m.window.ring = m.raws.map((x, i) => x - seasonalOffset(m.season, m.times[i]!));
  m.window.sorted = [...m.window.ring].sort((a, b) => a - b);
  // Older residuals were measured against the wrong profile; restart from the window's own.
  const level = medianSorted(m.window.sorted);
  m.residuals = createRobustWindow(m.residuals.capacity);
  for (const y of orderedRobustWindow(m.window)) pushRobustWindow(m.residuals, y - level);
  refreshSpread(m);
}

export const seasonalOps: ModelOps<SeasonalModel> = {
  unit: 'mad',
  assess(m, t, x) {
    if (m.window.sorted.length < 5) return null;
    const level = medianSorted(m.window.sorted);
    const scale = floorScale(m.spread, level);
    const expected = level + seasonalOffset(m.season, t);
    return { expected, scale, deviation: (x - expected) / scale, change: x - expected };
  },
  learn(m, t, x, base, anomalous, observed) {
    trackQuantum(m, observed);
    const level = m.window.sorted.length > 0 ? medianSorted(m.window.sorted) : x;
    if (observeSeasonality(m.season, t, x, level, base.cadenceMs, !anomalous)) rebuildWindow(m);
    // Anomalous values stay out of the baseline until the episode is adopted (adaptAfterMs).
    if (anomalous) return;
    if (m.raws.length < m.window.capacity) {
      m.raws.push(x);
      m.times.push(t);
    } else {
      m.raws[m.window.head] = x;
      m.times[m.window.head] = t;
    }
    const y = x - seasonalOffset(m.season, t);
    pushRobustWindow(m.residuals, y - (m.window.sorted.length > 0 ? medianSorted(m.window.sorted) : y));
    pushRobustWindow(m.window, y);
    if (++m.spreadAge >= SPREAD_REFRESH || m.residuals.sorted.length < 2 * SPREAD_REFRESH) refreshSpread(m);
  },
  rebase(m, shift, spread) {
    const level = medianSorted(m.window.sorted);
    remapRobustWindow(m.window, (v) => level + (v - level) * spread + shift);
    m.raws = m.window.ring.map((y, i) => y + seasonalOffset(m.season, m.times[i]!));
    if (spread !== 1) {
      const center = medianSorted(m.residuals.sorted);
      remapRobustWindow(m.residuals, (r) => center + (r - center) * spread);
      refreshSpread(m);
    }
  },
  currentScale(m) {
    return m.spread;
  },
};

export function createSeasonalState(config: DetectorConfigInput = {}): SeasonalState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'seasonal' });
  const resolved = resolveConfig(parsed, 'seasonal', { window: 100, warmup: 30 });
  return {
    ...createBaseState(resolved),
    detector: 'seasonal',
    model: {
      season: createSeasonality(resolved.seasonality),
      window: createRobustWindow(resolved.window),
      residuals: createRobustWindow(resolved.window * RESIDUAL_WINDOWS),
      spread: 0,
      spreadAge: 0,
      raws: [],
      times: [],
      quantum: 0,
      lastValue: null,
    },
  };
}

export function stepSeasonal(state: SeasonalState, point: DataPoint): StepResult {
  return stepModel(state, point, seasonalOps);
}

export const seasonalDetector: Detector<SeasonalState> = {
  name: 'seasonal',
  description: 'Robust level plus a time-of-day / day-of-week profile; the period is detected by autocorrelation unless configured.',
  createState: createSeasonalState,
  step: stepSeasonal,
};
