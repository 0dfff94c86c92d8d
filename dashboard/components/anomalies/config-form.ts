import { formatTags, parseTags } from '../../lib/metrics.ts';

/** One per-metric detector configuration as `GET /anomalies/configs` lists it. */
export interface Config { id: string; metric: string; filter: Record<string, string>; config: Record<string, unknown>; enabled: boolean; updatedAt: string }

export const DETECTORS = ['onset', 'ewma', 'seasonal', 'ensemble', 'mad', 'zscore'] as const;
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;
export const DIRECTIONS = ['both', 'up', 'down'] as const;

/**
 * The form's fields, as typed. `base` is the configuration being edited: the settings the form does
 * not show (window, seasonality, warmup, adaptAfterMs) go back as they were, since a PUT replaces
 * the whole configuration.
 */
export interface ConfigForm { metric: string; filter: string; detector: string; sensitivity: string; direction: string; minAbs: string; minRelPct: string; enabled: boolean; base: Record<string, unknown> }

export function emptyConfigForm(): ConfigForm {
  return { metric: '', filter: '', detector: 'onset', sensitivity: 'medium', direction: 'both', minAbs: '0', minRelPct: '0', enabled: true, base: {} };
}

export function fromConfig(c: Config): ConfigForm {
  const v = c.config;
  const text = (x: unknown, fallback: string) => (typeof x === 'string' || typeof x === 'number' ? String(x) : fallback);
  return {
    metric: c.metric,
    filter: formatTags(c.filter),
    detector: text(v.detector, 'onset'),
    sensitivity: text(v.sensitivity, 'medium'),
    direction: text(v.direction, 'both'),
    minAbs: text(v.minAbsDeviation, '0'),
    // A fraction shown as a percentage (0.1 -> "10", not "10.000000000000002").
    minRelPct: typeof v.minRelDeviation === 'number' ? String(Number((v.minRelDeviation * 100).toPrecision(12))) : '0',
    enabled: c.enabled,
    base: v,
  };
}

/** The body of `PUT /anomalies/configs`, or the first thing the form says is wrong. */
export function toConfigBody(f: ConfigForm, projectId: string): { body: { projectId: string; metric: string; filter: Record<string, string>; enabled: boolean; config: Record<string, unknown> } } | { error: string } {
  const filter = parseTags(f.filter);
  if ('error' in filter) return { error: `Series filter: ${filter.error}` };
  const minAbs = Number(f.minAbs);
  const minRel = Number(f.minRelPct) / 100;
  if (f.minAbs.trim() === '' || !Number.isFinite(minAbs) || minAbs < 0) return { error: 'Minimum change must be a number, 0 or more.' };
  if (f.minRelPct.trim() === '' || !Number.isFinite(minRel) || minRel < 0) return { error: 'Minimum relative change must be a percentage, 0 or more.' };
  // A sensitivity set through the API as a number of robust sigmas stays a number.
  const sensitivity = (SENSITIVITIES as readonly string[]).includes(f.sensitivity) ? f.sensitivity : Number(f.sensitivity);
  return {
    body: {
      projectId,
      metric: f.metric.trim(),
      filter: filter.tags,
      enabled: f.enabled,
      config: { ...f.base, detector: f.detector, sensitivity, direction: f.direction, minAbsDeviation: minAbs, minRelDeviation: minRel },
    },
  };
}
