import { applyModelFeedback } from './core.ts';
import type { StepResult } from './core.ts';
import { ensembleDetector } from './ensemble.ts';
import type { EnsembleState } from './ensemble.ts';
import { ewmaDetector, ewmaOps } from './ewma.ts';
import type { EwmaState } from './ewma.ts';
import { madDetector, madOps } from './mad.ts';
import { onsetDetector } from './onset.ts';
import type { OnsetState } from './onset.ts';
import type { MadState } from './mad.ts';
import { DEFAULT_DETECTOR, DetectorConfig, DetectorFeedback } from './schemas.ts';
import type { DataPoint, DetectorConfigInput, DetectorName } from './schemas.ts';
import { seasonalDetector, seasonalOps } from './seasonal.ts';
import type { SeasonalState } from './seasonal.ts';
import type { Detector } from './types.ts';
import { zscoreDetector, zscoreOps } from './zscore.ts';
import type { ZscoreState } from './zscore.ts';

export { ANOMALY_THRESHOLD, scoreDeviation } from './core.ts';
export type { Explanation, StepResult } from './core.ts';
export type { Detector } from './types.ts';
export { DEFAULT_DETECTOR, DETECTOR_NAMES, DetectorConfig, DetectorFeedback, DetectorName, DataPoint } from './schemas.ts';
export type { DetectorConfigInput } from './schemas.ts';
export type { ZscoreState, MadState, SeasonalState, EwmaState, EnsembleState, OnsetState };

/** Any detector's state; `detector` says which, so a saved state is self-describing. */
export type DetectorState = ZscoreState | MadState | SeasonalState | EwmaState | EnsembleState | OnsetState;

export const detectors = {
  zscore: zscoreDetector,
  mad: madDetector,
  seasonal: seasonalDetector,
  ewma: ewmaDetector,
  ensemble: ensembleDetector,
  onset: onsetDetector,
} satisfies { [K in DetectorName]: Detector<Extract<DetectorState, { detector: K }>> };

export function isDetectorName(name: string): name is DetectorName {
  return Object.hasOwn(detectors, name);
}

/** Validates the config (zod; throws on bad input) and builds the state of the detector it names. */
export function createDetectorState(config: DetectorConfigInput = {}): DetectorState {
  const name = DetectorConfig.parse(config).detector ?? DEFAULT_DETECTOR;
  return detectors[name].createState(config);
}

/** Scores one point and advances the state in place. */
export function stepDetector(state: DetectorState, point: DataPoint): StepResult {
  switch (state.detector) {
    case 'zscore':
      return detectors.zscore.step(state, point);
    case 'mad':
      return detectors.mad.step(state, point);
    case 'seasonal':
      return detectors.seasonal.step(state, point);
    case 'ewma':
      return detectors.ewma.step(state, point);
    case 'ensemble':
      return detectors.ensemble.step(state, point);
    case 'onset':
      return detectors.onset.step(state, point);
  }
}

/**
 * Tells the state that the episode between feedback.from and feedback.to was not an anomaly.
 * Mutates the state in place: the threshold of this series rises to 25% above the episode's peak
 * deviation, so repeats of it score below 0.5 (at most 4x the configured threshold; +25% when no
 * recorded episode overlaps the range), and an episode still in progress becomes the new normal
 * immediately instead of after adaptAfterMs. The raised threshold persists in the saved state.
 */
export function applyFeedback(state: DetectorState, feedback: DetectorFeedback): void {
  const { from, to } = DetectorFeedback.parse(feedback);
  switch (state.detector) {
    case 'zscore':
      return applyModelFeedback(state, zscoreOps, from, to);
    case 'mad':
      return applyModelFeedback(state, madOps, from, to);
    case 'seasonal':
      return applyModelFeedback(state, seasonalOps, from, to);
    case 'ewma':
      return applyModelFeedback(state, ewmaOps, from, to);
    case 'ensemble':
      applyModelFeedback(state.parts.seasonal, seasonalOps, from, to);
      applyModelFeedback(state.parts.ewma, ewmaOps, from, to);
      return;
    case 'onset':
      // The member's raised threshold also raises the surprise onset needs (onset.ts).
      applyModelFeedback(state.parts.ewma, ewmaOps, from, to);
  }
}
