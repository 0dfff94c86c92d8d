import type { StepResult } from './core.ts';
import type { DataPoint, DetectorConfigInput, DetectorName } from './schemas.ts';

/**
 * One streaming detector. `step` mutates the state it is given (copying windows per point would
 * dominate a scan) and reads nothing but that state and the point, so a scanner persists the state
 * as JSON between runs and never rereads history.
 */
export type Detector<S> = {
  name: DetectorName;
  description: string;
  createState(config?: DetectorConfigInput): S;
  step(state: S, point: DataPoint): StepResult;
};

/** Keeps a scale usable as a divisor even for a perfectly constant window. */
export function floorScale(scale: number, level: number): number {
  const floor = 1e-9 * Math.max(1, Math.abs(level));
  return Number.isFinite(scale) && scale > floor ? scale : floor;
}
