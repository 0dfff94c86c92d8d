import type { Queryable } from '../db/types.ts';
import type { Labels, Severity } from './model.ts';
import type { RuleRow } from './rule-views.ts';
import type { RuleKind } from './schemas.ts';

/** The SQL of the evaluator's side of alert_rules: which rules are due, and how their evaluation went. */

/** A rule as the evaluator reads it (durations in milliseconds). */
export interface EvalRule {
  id: string;
  projectId: string;
  organizationId: string;
  key: string;
  name: string;
  kind: RuleKind;
  query: Record<string, unknown>;
  condition: Record<string, unknown>;
  severity: Severity;
  labels: Labels;
  annotations: Labels;
  forMs: number;
  keepFiringForMs: number;
  intervalMs: number;
  delayMs: number;
  maxInstances: number;
}

type Row = Pick<
  RuleRow,
  'id' | 'project_id' | 'organization_id' | 'key' | 'name' | 'kind' | 'query' | 'condition' | 'severity' | 'labels' | 'annotations'
  | 'for_seconds' | 'keep_firing_for_seconds' | 'interval_seconds' | 'delay_seconds' | 'max_instances'
>;

/**
 * Claims up to `limit` due rules: their next evaluation moves to the next multiple of their interval
 * after `now` in the same statement, so a second evaluator (or a crash and a rerun) does not evaluate
 * them again before then. Aligned to the interval, as the schedulers are: a run a few milliseconds
 * late still finds the rule due at the next one.
 */
export async function claimDueRules(tx: Queryable, now: number, limit: number): Promise<EvalRule[]> {
  const rows = await tx.query<Row>(
    `with due as (
       select id from public.alert_rules
       where enabled and next_eval_at <= to_timestamp($1::float8 / 1000.0)
       order by next_eval_at, id limit $2 for update skip locked
     )
     update public.alert_rules r
     set next_eval_at = to_timestamp((floor($1::float8 / 1000.0 / r.interval_seconds) + 1) * r.interval_seconds)
     from due where r.id = due.id
     returning r.id, r.project_id, r.organization_id, r.key, r.name, r.kind, r.query, r.condition, r.severity, r.labels, r.annotations,
       r.for_seconds, r.keep_firing_for_seconds, r.interval_seconds, r.delay_seconds, r.max_instances`,
    [now, limit],
  );
  return rows
    .map((r) => ({
      id: r.id,
      projectId: r.project_id,
      organizationId: r.organization_id,
      key: r.key,
      name: r.name,
      kind: r.kind,
      query: r.query,
      condition: r.condition,
      severity: r.severity,
      labels: r.labels,
      annotations: r.annotations,
      forMs: r.for_seconds * 1000,
      keepFiringForMs: r.keep_firing_for_seconds * 1000,
      intervalMs: r.interval_seconds * 1000,
      delayMs: r.delay_seconds * 1000,
      maxInstances: r.max_instances,
    }))
    .sort((a, b) => (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : a.id < b.id ? -1 : 1));
}

/** How the rule's evaluation went: shown as its health in the API. */
export async function recordEvaluation(
  tx: Queryable,
  ruleId: string,
  outcome: { at: number; ms: number; error: string | null; overCap: number },
): Promise<void> {
  await tx.query(
    `update public.alert_rules set last_eval_at = to_timestamp($2::float8 / 1000.0), last_eval_ms = $3, last_error = $4, instances_over_cap = $5
     where id = $1`,
    [ruleId, outcome.at, Math.round(outcome.ms), outcome.error, outcome.overCap],
  );
}
