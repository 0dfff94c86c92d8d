import { assertWithinPlan } from '../billing/plan-limits.ts';
import type { Deps } from '../core/deps.ts';
import { AppError } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { lockProjectRules, writableProject } from './find-rule.ts';
import { RULE_COLUMNS, ruleParams, type RuleRow, type RuleValues, ruleValues, toRuleView } from './rule-views.ts';
import { ALERT_LIMITS, type CreateRule } from './schemas.ts';

/** Adds a rule to a project (owners, admins, members assigned to it, admin keys; audited by trigger). */
export async function createRule(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: CreateRule) {
  const values = ruleValues(input.rule, 'body.rule');
  const row = await withClaims(deps.db, actor, async (tx) => {
    const project = await writableProject(tx, input.projectId, keyProjectId);
    await lockProjectRules(tx, project.id);
    const [count] = await tx.query<{ n: number; taken: boolean }>(
      'select count(*)::int as n, coalesce(bool_or(key = $2), false) as taken from public.alert_rules where project_id = $1',
      [project.id, input.rule.key],
    );
    if (count!.taken) throw new AppError('CONFLICT', `The project already has a rule with key '${input.rule.key}'`);
    if (count!.n >= ALERT_LIMITS.rulesPerProject) throw invalid('body.rule', `a project has at most ${ALERT_LIMITS.rulesPerProject} alert rules`);
    // The organization's plan limits its rules across all projects.
    await assertWithinPlan(tx, actor, project.organizationId, 'alertRules', 'body.rule');
    return insertRule(tx, project, input.rule.key, values, deps.clock.now());
  });
  return toRuleView(row);
}

/**
 * The insert both createRule and applyRules make; the evaluator picks the rule up at its next run
 * (next_eval_at is the server's clock, as the evaluator's claims compare it, not the database's).
 */
export async function insertRule(tx: Queryable, project: { id: string; organizationId: string }, key: string, values: RuleValues, now: Date): Promise<RuleRow> {
  const [row] = await tx.query<RuleRow>(
    `insert into public.alert_rules (project_id, organization_id, key, name, kind, query, condition, severity, labels, annotations,
       for_seconds, keep_firing_for_seconds, interval_seconds, delay_seconds, max_instances, enabled, next_eval_at)
     values ($1, $2, $3, $4, $5, $6::text::jsonb, $7::text::jsonb, $8, $9::text::jsonb, $10::text::jsonb, $11, $12, $13, $14, $15, $16, $17)
     returning ${RULE_COLUMNS}`,
    [project.id, project.organizationId, key, ...ruleParams(values), now],
  );
  return row!;
}
