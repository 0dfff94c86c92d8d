import { resolveConfig, createBaseState, stepModel } from './core.ts';
import type { ModelOps, ModelState, StepResult } from './core.ts';
import { createRobustWindow, medianSorted, pushRobustWindow, remapRobustWindow, robustScale } from './robust-window.ts';
import type { RobustWindow } from './robust-window.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { floorScale, trackQuantum } from './types.ts';
import type { Detector } from './types.ts';

/** Rolling median and MAD (with floors, see robustScale) over the last `window` points. */
export type MadModel = {
  window: RobustWindow;
  /**
   * Smallest positive step between consecutive values ever seen (0 = none yet). Kept beyond the
   * window because a window of all zeros from a 0/1 series has no step left to floor the MAD with.
   */
  quantum: number;
  lastValue: number | null;
};
export type MadState = ModelState<MadModel> & { detector: 'mad' };

export const madOps: ModelOps<MadModel> = {
  unit: 'mad',
  assess(m, _t, x) {
    if (m.window.sorted.length < 5) return null;
    const median = medianSorted(m.window.sorted);
    const scale = floorScale(robustScale(m.window.sorted, median, m.quantum), median);
    return { expected: median, scale, deviation: (x - median) / scale, change: x - median };
  },
  learn(m, _t, x, _base, anomalous, observed) {
    trackQuantum(m, observed);
    // Anomalous values stay out of the window until the episode is adopted (adaptAfterMs).
    if (anomalous) return;
    pushRobustWindow(m.window, x);
  },
  rebase(m, shift, spread) {
    const median = medianSorted(m.window.sorted);
    remapRobustWindow(m.window, (v) => median + (v - median) * spread + shift);
  },
  currentScale(m) {
    const median = medianSorted(m.window.sorted);
    return robustScale(m.window.sorted, median, m.quantum);
  },
};

export function createMadState(config: DetectorConfigInput = {}): MadState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'mad' });
  const resolved = resolveConfig(parsed, 'mad', { window: 100, warmup: 30 });
  return { ...createBaseState(resolved), detector: 'mad', model: { window: createRobustWindow(resolved.window), quantum: 0, lastValue: null } };
}

export function stepMad(state: MadState, point: DataPoint): StepResult {
  return stepModel(state, point, madOps);
}

export const madDetector: Detector<MadState> = {
  name: 'mad',
  description: 'Rolling median and MAD, floored for quantized or mostly-constant series.',
  createState: createMadState,
  step: stepMad,
};
