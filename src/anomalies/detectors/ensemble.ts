import { ANOMALY_THRESHOLD, isUsablePoint, resolveConfig, skippedResult } from './core.ts';
import type { BaseState, StepResult } from './core.ts';
import { createEwmaState, stepEwma } from './ewma.ts';
import type { EwmaState } from './ewma.ts';
import { DetectorConfig } from './schemas.ts';
import type { DataPoint, DetectorConfigInput } from './schemas.ts';
import { createSeasonalState, stepSeasonal } from './seasonal.ts';
import type { SeasonalState } from './seasonal.ts';
import type { Detector } from './types.ts';

/**
 * Runs the seasonal (robust median/MAD on deseasonalized values: spikes, dips, seasonal breaks,
 * quantized series) and EWMA (small sustained shifts and drifts) detectors side by side on the same
 * config and reports the higher score. Each member keeps its own episodes and adaptation.
 */
export type EnsembleState = {
  version: 1;
  detector: 'ensemble';
  config: BaseState['config'];
  parts: { seasonal: SeasonalState; ewma: EwmaState };
};

export function createEnsembleState(config: DetectorConfigInput = {}): EnsembleState {
  const parsed = DetectorConfig.parse({ ...config, detector: 'ensemble' });
  const ewma = createEwmaState(config);
  return {
    version: 1,
    detector: 'ensemble',
    config: resolveConfig(parsed, 'ensemble', { window: 100, warmup: 30 }),
    parts: {
      seasonal: createSeasonalState(config),
      ewma: { ...ewma, model: { ...ewma.model, pointTest: false } },
    },
  };
}

export function stepEnsemble(state: EnsembleState, point: DataPoint): StepResult {
  if (!isUsablePoint(point)) {
    const skipped = skippedResult(state.parts.seasonal, point, 'mad');
    return { ...skipped, explanation: { ...skipped.explanation, detector: 'ensemble' } };
  }
  const a = stepSeasonal(state.parts.seasonal, point);
  const b = stepEwma(state.parts.ewma, point);
  const best = b.score > a.score ? b : a;
  return {
    score: best.score,
    anomalous: best.score >= ANOMALY_THRESHOLD,
    explanation: { ...best.explanation, detector: 'ensemble' },
  };
}

export const ensembleDetector: Detector<EnsembleState> = {
  name: 'ensemble',
  description: 'Max of the seasonal (robust) and EWMA (shift/drift) detectors.',
  createState: createEnsembleState,
  step: stepEnsemble,
};
