import { assertWithinPlan } from '../billing/plan-limits.ts';
import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { invalid } from '../http/validate.ts';
import { insertRule } from './create-rule.ts';
import { lockProjectRules, writableProject } from './find-rule.ts';
import { RULE_COLUMNS, type RuleRow, ruleValues, sameRule } from './rule-views.ts';
import { ALERT_LIMITS, type ApplyRules } from './schemas.ts';
import { replaceRule } from './update-rule.ts';

export interface ApplyResult {
  created: string[];
  changed: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Rules as code: makes a project's rules those of the file, matched by key, in one transaction.
 * A rule equal to its row is not written at all (no update, no audit row, no re-evaluation), so
 * applying the same file twice changes nothing; with `prune`, rules whose key the file lacks go.
 */
export async function applyRules(deps: Pick<Deps, 'db' | 'clock'>, actor: Claims, keyProjectId: string | undefined, input: ApplyRules): Promise<ApplyResult> {
  const index = new Map<string, number>();
  input.rules.forEach((rule, i) => {
    const first = index.get(rule.key);
    if (first !== undefined) throw invalid(`body.rules.${i}.key`, `repeats the key '${rule.key}' of body.rules.${first}`);
    index.set(rule.key, i);
  });
  const values = input.rules.map((rule, i) => ruleValues(rule, `body.rules.${i}`));
  return withClaims(deps.db, actor, async (tx) => {
    const project = await writableProject(tx, input.projectId, keyProjectId);
    await lockProjectRules(tx, project.id);
    const rows = await tx.query<RuleRow>(`select ${RULE_COLUMNS} from public.alert_rules where project_id = $1`, [project.id]);
    const existing = new Map(rows.map((r) => [r.key, r]));
    const others = rows.filter((r) => !index.has(r.key));
    const total = input.rules.length + (input.prune ? 0 : others.length);
    if (total > ALERT_LIMITS.rulesPerProject) {
      throw invalid('body.rules', `a project has at most ${ALERT_LIMITS.rulesPerProject} alert rules; this would leave ${total} (prune removes the rules the file lacks)`);
    }
    // The organization's plan limits its rules across all projects, as createRule checks: the file
    // may add as many as it creates less those prune removes (checked before anything is written).
    const added = input.rules.filter((r) => !existing.has(r.key)).length - (input.prune ? others.length : 0);
    if (added > 0) await assertWithinPlan(tx, actor, project.organizationId, 'alertRules', 'body.rules', added);
    const result: ApplyResult = { created: [], changed: [], unchanged: [], removed: [] };
    if (input.prune && others.length > 0) {
      await tx.query('delete from public.alert_rules where id = any($1::uuid[])', [others.map((r) => r.id)]);
      result.removed = others.map((r) => r.key).sort();
    }
    for (const [i, rule] of input.rules.entries()) {
      const row = existing.get(rule.key);
      if (!row) {
        await insertRule(tx, project, rule.key, values[i]!, deps.clock.now());
        result.created.push(rule.key);
      } else if (sameRule(row, values[i]!)) {
        result.unchanged.push(rule.key);
      } else {
        await replaceRule(tx, row.id, values[i]!, deps.clock.now());
        result.changed.push(rule.key);
      }
    }
    return result;
  });
}
