import { resolveConfig, createBaseState, stepModel } from './core.ts';
import type { ModelOps, ModelState, StepResult } from './core.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { floorScale } from './types.ts';
import type { Detector } from './types.ts';

/** Plain rolling mean / standard deviation over the last `window` points. */
export type ZscoreModel = {
  capacity: number;
  ring: number[];
  head: number;
  sum: number;
  sumSq: number;
  /** Points since the running sums were last recomputed (floating-point drift guard). */
  sinceRecompute: number;
};
export type ZscoreState = ModelState<ZscoreModel> & { detector: 'zscore' };

function recompute(m: ZscoreModel): void {
  let s = 0;
  let q = 0;
  for (const v of m.ring) {
    s += v;
    q += v * v;
  }
  m.sum = s;
  m.sumSq = q;
  m.sinceRecompute = 0;
}

function meanStd(m: ZscoreModel): { mean: number; std: number } {
  const n = m.ring.length;
  const mean = m.sum / n;
  const variance = n > 1 ? Math.max(0, (m.sumSq - n * mean * mean) / (n - 1)) : 0;
  return { mean, std: Math.sqrt(variance) };
}

export const zscoreOps: ModelOps<ZscoreModel> = {
  unit: 'stddev',
  assess(m, _t, x) {
    if (m.ring.length < 3) return null;
    const { mean, std } = meanStd(m);
    const scale = floorScale(std, mean);
    return { expected: mean, scale, deviation: (x - mean) / scale, change: x - mean };
  },
  learn(m, _t, x, _base, anomalous) {
    // Anomalous values stay out of the window until the episode is adopted (adaptAfterMs).
    if (anomalous) return;
    if (m.ring.length < m.capacity) {
      m.ring.push(x);
      m.sum += x;
      m.sumSq += x * x;
    } else {
      const old = m.ring[m.head]!;
      m.ring[m.head] = x;
      m.head = (m.head + 1) % m.capacity;
      m.sum += x - old;
      m.sumSq += x * x - old * old;
    }
    if (++m.sinceRecompute >= m.capacity) recompute(m);
  },
  rebase(m, shift, spread) {
    const { mean } = meanStd(m);
    m.ring = m.ring.map((v) => mean + (v - mean) * spread + shift);
    recompute(m);
  },
  currentScale(m) {
    return m.ring.length > 1 ? meanStd(m).std : 0;
  },
};

export function createZscoreState(config: DetectorConfigInput = {}): ZscoreState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'zscore' });
  const resolved = resolveConfig(parsed, 'zscore', { window: 60, warmup: 30 });
  return {
    ...createBaseState(resolved),
    detector: 'zscore',
    model: { capacity: resolved.window, ring: [], head: 0, sum: 0, sumSq: 0, sinceRecompute: 0 },
  };
}

export function stepZscore(state: ZscoreState, point: DataPoint): StepResult {
  return stepModel(state, point, zscoreOps);
}

export const zscoreDetector: Detector<ZscoreState> = {
  name: 'zscore',
  description: 'Rolling mean and standard deviation over a sliding window of points.',
  createState: createZscoreState,
  step: stepZscore,
};
