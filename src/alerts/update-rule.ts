import type { Deps } from '../core/deps.ts';
import { forbidden } from '../core/errors.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import type { Queryable } from '../db/types.ts';
import { invalid } from '../http/validate.ts';
import { findRule } from './find-rule.ts';
import { RULE_COLUMNS, ruleParams, type RuleRow, type RuleValues, ruleValues, toRuleView } from './rule-views.ts';
import type { UpdateRule } from './schemas.ts';

/**
 * Replaces a rule with the one given (omitted fields take their defaults, as in a rules file). The key
 * stays: it is the rule's name in rules-as-code files, and a new key is a new rule.
 */
export async function updateRule(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, id: string, input: UpdateRule) {
  const values = ruleValues(input.rule, 'body.rule');
  const row = await withClaims(deps.db, actor, async (tx) => {
    const current = await findRule(tx, id);
    if (current.key !== input.rule.key) throw invalid('body.rule.key', `must stay '${current.key}': a rule's key cannot change (create a rule with the new key instead)`);
    const updated = await replaceRule(tx, id, values, deps.clock.now());
    if (!updated) throw forbidden('Only owners, admins and members assigned to the project can change its alert rules');
    return updated;
  });
  return toRuleView(row);
}

/** Writes a rule's user-set columns; it is evaluated at the next run (next_eval_at = now). Undefined when RLS refuses. */
export async function replaceRule(tx: Queryable, id: string, values: RuleValues, now: Date): Promise<RuleRow | undefined> {
  const [row] = await tx.query<RuleRow>(
    `update public.alert_rules set name = $2, kind = $3, query = $4::text::jsonb, condition = $5::text::jsonb, severity = $6,
       labels = $7::text::jsonb, annotations = $8::text::jsonb, for_seconds = $9, keep_firing_for_seconds = $10, interval_seconds = $11,
       delay_seconds = $12, max_instances = $13, enabled = $14, next_eval_at = $15
     where id = $1 returning ${RULE_COLUMNS}`,
    [id, ...ruleParams(values), now],
  );
  return row;
}
