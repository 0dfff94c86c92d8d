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

/**
 * Smallest positive step between consecutive raw values seen so far (0 = none yet): the series'
 * quantization step. Kept for the whole history, because a window of a 0/1 series can be all zeros.
 */
export function trackQuantum(m: { quantum: number; lastValue: number | null }, observed: number): void {
  if (m.lastValue !== null) {
    const step = Math.abs(observed - m.lastValue);
    if (step > 0 && (m.quantum === 0 || step < m.quantum)) m.quantum = step;
  }
  m.lastValue = observed;
}
