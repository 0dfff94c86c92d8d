import { toIso as iso } from '../core/time.ts';
import { formatDuration } from './durations.ts';
import type { Labels, Severity } from './model.ts';
import { hasThresholds, type RuleKind, type RuleSpec, storedQuery } from './schemas.ts';
import { invalid } from '../http/validate.ts';

/**
 * Alert rules between the API and alert_rules: the columns a RuleSpec becomes, the view the API shows,
 * and the rules-as-code form that export gives and apply takes. Durations are milliseconds in a
 * RuleSpec, whole seconds in the row (`for_seconds`...) and canonical text (`5m`) in views and
 * exports; the query keeps its input shape (storedQuery), so the evaluator parses it with RuleSpec.
 */

export const RULE_COLUMNS = `id, project_id, organization_id, key, name, kind, query, condition, severity, labels, annotations, for_seconds,
  keep_firing_for_seconds, interval_seconds, delay_seconds, max_instances, enabled, next_eval_at, last_eval_at, last_eval_ms, last_error,
  instances_over_cap, created_at, updated_at`;

export interface RuleRow {
  id: string;
  project_id: string;
  organization_id: string;
  key: string;
  name: string;
  kind: RuleKind;
  query: Record<string, unknown>;
  condition: Record<string, unknown>;
  severity: Severity;
  labels: Labels;
  annotations: Labels;
  for_seconds: number;
  keep_firing_for_seconds: number;
  interval_seconds: number;
  delay_seconds: number;
  max_instances: number;
  enabled: boolean;
  next_eval_at: Date;
  last_eval_at: Date | null;
  last_eval_ms: number | null;
  last_error: string | null;
  instances_over_cap: number;
  created_at: Date;
  updated_at: Date;
}

/** What a user sets of a rule, by column, in the order of RULE_VALUE_SQL's parameters. */
export type RuleValues = Pick<
  RuleRow,
  | 'name' | 'kind' | 'query' | 'condition' | 'severity' | 'labels' | 'annotations' | 'for_seconds' | 'keep_firing_for_seconds'
  | 'interval_seconds' | 'delay_seconds' | 'max_instances' | 'enabled'
>;

const TIMERS = [
  ['for', 'for_seconds'],
  ['keepFiringFor', 'keep_firing_for_seconds'],
  ['interval', 'interval_seconds'],
  ['delay', 'delay_seconds'],
] as const;

/**
 * The columns of a rule. Timers are stored in whole seconds, so `1500ms` is a 400 naming the field
 * (`field` is where the spec sits in the request, e.g. `body.rules.3`) rather than a silent rounding.
 */
export function ruleValues(spec: RuleSpec, field: string): RuleValues {
  const seconds = {} as Record<(typeof TIMERS)[number][1], number>;
  for (const [name, column] of TIMERS) {
    if (spec[name] % 1000 !== 0) throw invalid(`${field}.${name}`, 'must be a whole number of seconds');
    seconds[column] = spec[name] / 1000;
  }
  return {
    name: spec.name,
    kind: spec.kind,
    ...storedQuery(spec),
    severity: spec.severity,
    labels: spec.labels,
    annotations: spec.annotations,
    ...seconds,
    max_instances: spec.maxInstances,
    enabled: spec.enabled,
  };
}

/** Parameters $2.. of an insert or update (JSON as text: see src/db/types.ts). */
export const ruleParams = (v: RuleValues): unknown[] => [
  v.name,
  v.kind,
  JSON.stringify(v.query),
  JSON.stringify(v.condition),
  v.severity,
  JSON.stringify(v.labels),
  JSON.stringify(v.annotations),
  v.for_seconds,
  v.keep_firing_for_seconds,
  v.interval_seconds,
  v.delay_seconds,
  v.max_instances,
  v.enabled,
];

/** JSON with sorted keys: jsonb gives keys back in its own order, so equal objects compare equal. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** True when writing `v` would change nothing the user set (so apply writes nothing, and audits nothing). */
export function sameRule(row: RuleRow, v: RuleValues): boolean {
  return (Object.keys(v) as Array<keyof RuleValues>).every((k) => canonical(row[k]) === canonical(v[k]));
}

/** The rule as a rules-as-code entry: PUT /rules with these entries changes nothing. */
export function toRuleInput(r: RuleRow) {
  return {
    key: r.key,
    name: r.name,
    kind: r.kind,
    query: r.query,
    ...(hasThresholds(r.kind) ? { condition: r.condition } : {}),
    severity: r.severity,
    labels: r.labels,
    annotations: r.annotations,
    for: formatDuration(r.for_seconds * 1000),
    keepFiringFor: formatDuration(r.keep_firing_for_seconds * 1000),
    interval: formatDuration(r.interval_seconds * 1000),
    delay: formatDuration(r.delay_seconds * 1000),
    maxInstances: r.max_instances,
    enabled: r.enabled,
  };
}


export const toRuleView = (r: RuleRow) => {
  const { condition, ...input } = toRuleInput(r);
  return {
    id: r.id,
    projectId: r.project_id,
    ...input,
    // Only metric, log and trace rules have thresholds; the others fire on what their query finds.
    condition: condition ?? null,
    health: {
      lastEvalAt: iso(r.last_eval_at),
      lastEvalMs: r.last_eval_ms,
      lastError: r.last_error,
      instancesOverCap: r.instances_over_cap,
      nextEvalAt: iso(r.next_eval_at),
    },
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
};
export type RuleView = ReturnType<typeof toRuleView>;
