import { createDetectorState, stepDetector } from '../../../src/anomalies/detectors/index.ts';
import type { DetectorConfigInput, DetectorState, StepResult } from '../../../src/anomalies/detectors/index.ts';
import { ONSET_TUNING } from '../../../src/anomalies/detectors/onset.ts';
import { createRng } from '../../fixtures/anomalies/generate-eval-set.ts';

export type Series = { timestamps: number[]; values: number[] };

export function runDetector(config: DetectorConfigInput, series: Series, state: DetectorState = createDetectorState(config)): StepResult[] {
  return series.values.map((value, i) => stepDetector(state, { timestamp: series.timestamps[i]!, value }));
}

export const MINUTE = 60_000;
export const START = Date.UTC(2024, 0, 1);

/** Gaussian noise around `level`, one point per cadence, from a seeded PRNG. */
export function noiseSeries(n: number, opts: { level?: number; sigma?: number; seed?: number; cadenceMs?: number } = {}): Series {
  const rng = createRng(opts.seed ?? 1);
  const { level = 100, sigma = 2, cadenceMs = MINUTE } = opts;
  const timestamps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(rng(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    timestamps.push(START + i * cadenceMs);
    values.push(level + sigma * z);
  }
  return { timestamps, values };
}

/** Indices whose score reaches the anomaly threshold. */
export function flagged(results: StepResult[], from = 0, to = results.length): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) if (results[i]!.score >= 0.5) out.push(i);
  return out;
}

/** Runs `fn` with some of onset's constants changed, then puts back what they were. */
export function withTuning<T>(overrides: Partial<typeof ONSET_TUNING>, fn: () => T): T {
  const saved = { ...ONSET_TUNING };
  Object.assign(ONSET_TUNING, overrides);
  try {
    return fn();
  } finally {
    Object.assign(ONSET_TUNING, saved);
  }
}
