import type { Deps } from '../core/deps.ts';
import { type Claims, withClaims } from '../db/scoped.ts';
import { resolveProject } from '../orgs/lookup.ts';
import { RULE_COLUMNS, type RuleRow, toRuleInput } from './rule-views.ts';

/**
 * A project's rules in the rules-as-code format, by key: every field written out (defaults included,
 * durations as canonical text), so the file that `PUT /rules` takes back unchanged is a no-op, and
 * a diff in git shows exactly what someone changed.
 */
export async function exportRules(deps: Pick<Deps, 'db'>, actor: Claims, keyProjectId: string | undefined, query: { projectId?: string | undefined }) {
  const rows = await withClaims(deps.db, actor, async (tx) => {
    const projectId = await resolveProject(tx, query.projectId, keyProjectId);
    return tx.query<RuleRow>(`select ${RULE_COLUMNS} from public.alert_rules where project_id = $1 order by key collate "C"`, [projectId]);
  });
  return rows.map(toRuleInput);
}
