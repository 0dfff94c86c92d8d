import { AppError } from '../core/errors.ts';
import { ORIGIN_MS, RESOLUTIONS } from './resolutions.ts';
import { QUERY_LIMITS, type SeriesQuery } from './schemas.ts';

const NICE_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

export interface QueryPlan {
  resolution: (typeof RESOLUTIONS)[number];
  stepMs: number;
  /** First output bucket (aligned to the step from ORIGIN_MS, as the query's date_bin) and the end (exclusive). */
  from: number;
  to: number;
  points: number;
}

/**
 * Picks the step (given, or the smallest "nice" step that keeps the points under maxPoints) and the
 * coarsest rollup resolution that divides it evenly, so every output point is an exact merge of
 * whole rollup buckets. Refuses a request that would return more points per series than allowed.
 */
export function planQuery(q: SeriesQuery, index: number): QueryPlan {
  const span = q.to - q.from;
  let stepMs: number;
  if (q.step !== undefined) {
    stepMs = q.step * 1000;
  } else {
    const wanted = Math.ceil(span / q.maxPoints / 1000);
    stepMs = (NICE_STEPS.find((s) => s >= wanted) ?? Math.ceil(wanted / 86400) * 86400) * 1000;
  }
  const resolution = [...RESOLUTIONS].reverse().find((r) => stepMs % r.ms === 0);
  if (!resolution) {
    throw new AppError('VALIDATION_FAILED', `queries.${index}.step: must be a whole number of minutes`, {
      details: [{ field: `queries.${index}.step`, message: 'must be a whole number of minutes' }],
    });
  }
  // From the rollups' origin, not the epoch: a step that does not divide the 10,957 days between
  // them (2 days, a week) would otherwise put every output bucket between two SQL bins.
  const from = ORIGIN_MS + Math.floor((q.from - ORIGIN_MS) / stepMs) * stepMs;
  const points = Math.ceil((q.to - from) / stepMs);
  const cap = Math.max(q.maxPoints, q.step !== undefined ? QUERY_LIMITS.maxPointsPerSeries : q.maxPoints);
  if (points > cap) {
    throw new AppError('VALIDATION_FAILED', `queries.${index}.step: this range would return ${points} points per series; at most ${cap}`, {
      details: [{ field: `queries.${index}.step`, message: `would return ${points} points per series; at most ${cap}` }],
    });
  }
  return { resolution, stepMs, from, to: q.to, points };
}
